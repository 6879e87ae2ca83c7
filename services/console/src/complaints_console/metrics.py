"""Projector and console metrics, registered on the CollectorRegistry passed in."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

# A page should render in tens of milliseconds; seconds mean a missing index.
PAGE_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1.0, 2.5, 5.0)


class ProjectorMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.records = Counter(
            "complaints_projector_records_total",
            "Records applied to the read model, by topic.",
            ["topic"],
            registry=registry,
        )
        self.rejected = Counter(
            "complaints_projector_rejected_total",
            "Records sent to complaints.rejected.v1 instead of the read model, by reason.",
            ["reason"],
            registry=registry,
        )
        self.batch_seconds = Histogram(
            "complaints_projector_batch_seconds",
            "Time to apply one batch of records in one database transaction.",
            buckets=PAGE_BUCKETS,
            registry=registry,
        )
        self.batch_failures = Counter(
            "complaints_projector_batch_failures_total",
            "Batches whose transaction failed (database unavailable); read again after a pause.",
            registry=registry,
        )
        self.purged = Counter(
            "complaints_projector_purged_complaints_total",
            "Closed complaints deleted after the retention period.",
            registry=registry,
        )
        self.last_applied = Gauge(
            "complaints_projector_last_batch_timestamp_seconds",
            "When the last batch was committed to the database (Unix time).",
            registry=registry,
        )


class ConsoleMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.pages = Histogram(
            "complaints_console_request_seconds",
            "Console responses, by route template and status class.",
            ["route", "status"],
            buckets=PAGE_BUCKETS,
            registry=registry,
        )
        self.actions = Counter(
            "complaints_console_actions_total",
            "Actions published through intake, by action and result (published, refused, failed).",
            ["action", "result"],
            registry=registry,
        )
        self.logins = Counter(
            "complaints_console_logins_total",
            "Sign-in attempts, by result (ok, refused).",
            ["result"],
            registry=registry,
        )
