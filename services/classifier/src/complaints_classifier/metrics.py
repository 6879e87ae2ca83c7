"""Classifier metrics, registered on the CollectorRegistry passed in."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from complaints_schemas.events import Scope, Severity

# Processing time from receipt on complaints.accepted.v1 to ComplaintClassified acknowledged.
DURATION_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class ClassifierMetrics:
    def __init__(self, registry: CollectorRegistry, *, categories: tuple[str, ...] = ()) -> None:
        self.classified = Counter(
            "complaints_classifier_classified_total",
            "Complaints classified, by severity, scope and category (configured ids only).",
            ["severity", "scope", "category"],
            registry=registry,
        )
        self.rejected = Counter(
            "complaints_classifier_rejected_total",
            "Input records sent to complaints.rejected.v1, by reason.",
            ["reason"],
            registry=registry,
        )
        self.duration = Histogram(
            "complaints_classifier_duration_seconds",
            "Seconds from receiving a complaint to its ComplaintClassified being acknowledged.",
            buckets=DURATION_BUCKETS,
            registry=registry,
        )
        self.needs_triage = Counter(
            "complaints_classifier_needs_triage_total",
            "Complaints below the model's confidence floor, flagged for a person, by category.",
            ["category"],
            registry=registry,
        )
        self.clusters_opened = Counter(
            "complaints_classifier_clusters_opened_total",
            "Common clusters opened (a fingerprint reached the threshold), by category.",
            ["category"],
            registry=registry,
        )
        self.window_outcomes = Counter(
            "complaints_classifier_window_outcomes_total",
            "Window updates: counted, duplicate (redelivery) or late (older than the window).",
            ["outcome"],
            registry=registry,
        )
        self.rule_reloads = Counter(
            "complaints_classifier_rule_reloads_total",
            "Rule reloads (SIGHUP or file change): applied, unchanged, invalid (old rules kept).",
            ["outcome"],
            registry=registry,
        )
        for outcome in ("applied", "unchanged", "invalid"):
            self.rule_reloads.labels(outcome)
        self.severity_raises = Counter(
            "complaints_classifier_severity_raises_total",
            "Severity raise causes found, by cause (raise_for, repeat, emotion).",
            ["cause"],
            registry=registry,
        )
        self.duplicates = Counter(
            "complaints_classifier_duplicates_total",
            "Complaints linked to the same customer's earlier one from another channel.",
            registry=registry,
        )
        self.risk_causes = Counter(
            "complaints_classifier_risk_causes_total",
            "Risk decisions by cause (phrase rule ids, surge, cluster_size, vip_red).",
            ["cause"],
            registry=registry,
        )
        self.rules_categories = Gauge(
            "complaints_classifier_rules_categories",
            "Categories in the loaded rule set.",
            registry=registry,
        )
        self.rules_categories.set(len(categories))
        for category in categories:
            for severity in Severity:
                for scope in Scope:
                    self.classified.labels(severity.value, scope.value, category)

    def rule_reloaded(self, outcome: str, *, categories: int) -> None:
        self.rule_reloads.labels(outcome).inc()
        self.rules_categories.set(categories)
