"""Notifier metrics, registered on the CollectorRegistry passed in."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

# Escalation -> accepted by the channel: seconds when healthy, minutes while a sink is down.
LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0)
OUTCOMES = ("delivered", "failed", "duplicate")


class NotifierMetrics:
    def __init__(self, registry: CollectorRegistry, *, channels: tuple[str, ...] = ()) -> None:
        self.deliveries = Counter(
            "complaints_notifier_deliveries_total",
            "Notifications finished, by channel and outcome (delivered, failed, duplicate).",
            ["channel", "outcome"],
            registry=registry,
        )
        self.latency = Histogram(
            "complaints_notifier_delivery_latency_seconds",
            "From the escalation instant to acceptance by the channel.",
            ["channel"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.retries = Counter(
            "complaints_notifier_retries_total",
            "Attempts scheduled again after a retryable failure, by channel.",
            ["channel"],
            registry=registry,
        )
        self.rejected = Counter(
            "complaints_notifier_rejected_total",
            "Escalation records sent to complaints.rejected.v1, by reason.",
            ["reason"],
            registry=registry,
        )
        self.attempts = Counter(
            "complaints_notifier_attempts_total",
            "Delivery attempts, by channel and result (delivered, retryable, permanent).",
            ["channel", "result"],
            registry=registry,
        )
        self.in_flight = Gauge(
            "complaints_notifier_in_flight",
            "Escalation records being handled now (bounded by the concurrency setting).",
            registry=registry,
        )
        self.dedup_log_size = Gauge(
            "complaints_notifier_dedup_log_notifications",
            "Delivered notification ids known to the dedup log.",
            registry=registry,
        )
        self.dedup_log_load_seconds = Gauge(
            "complaints_notifier_dedup_log_load_seconds",
            "Duration of the last read of notifications.delivered.v1 to its end.",
            registry=registry,
        )
        self.commits = Counter(
            "complaints_notifier_commits_total",
            "Offset commits on complaints.escalated.v1, by result (ok, error).",
            ["result"],
            registry=registry,
        )
        self.muted = Counter(
            "complaints_notifier_muted_total",
            "Notifications not sent because the receiver was in quiet hours, by receiver.",
            ["receiver"],
            registry=registry,
        )
        self.unresolved_targets = Counter(
            "complaints_notifier_unresolved_targets_total",
            "Escalation targets with no entry in the directory's roles (routed by the tree).",
            registry=registry,
        )
        self.fallbacks = Counter(
            "complaints_notifier_fallbacks_total",
            "Notifications handed to the receiver's fallback channel, by the failed channel.",
            ["channel"],
            registry=registry,
        )
        self.rate_limited = Counter(
            "complaints_notifier_rate_limited_total",
            "Times a channel's token bucket ran dry and messages had to wait, by channel.",
            ["channel"],
            registry=registry,
        )
        self.digests = Counter(
            "complaints_notifier_digests_total",
            "Digest messages sent after a channel was rate limited, by channel.",
            ["channel"],
            registry=registry,
        )
        self.digested = Counter(
            "complaints_notifier_digested_total",
            "Escalations delivered inside a digest rather than on their own, by channel.",
            ["channel"],
            registry=registry,
        )
        self.grouped = Counter(
            "complaints_notifier_grouped_total",
            "Escalations folded into an earlier one's message (same department and cluster).",
            ["channel"],
            registry=registry,
        )
        self.queue_depth = Gauge(
            "complaints_notifier_queue_depth",
            "Messages waiting for a channel's rate limit, by channel.",
            ["channel"],
            registry=registry,
        )
        self.dedup_hits = Counter(
            "complaints_notifier_dedup_hits_total",
            "Notifications skipped because the dedup log (or an in-flight copy) had them.",
            ["channel"],
            registry=registry,
        )
        for channel in channels:
            for outcome in OUTCOMES:
                self.deliveries.labels(channel, outcome)
            self.retries.labels(channel)
