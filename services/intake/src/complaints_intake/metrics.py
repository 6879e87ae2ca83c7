"""Intake metrics, registered on a registry passed in."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

# Edges around the latency the API promises (a broker ack within a few hundred ms).
HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class IntakeMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.accepted = Counter(
            "complaints_intake_accepted_total",
            "Complaints accepted and acknowledged by the broker.",
            ["channel", "source"],
            registry=registry,
        )
        self.rejected = Counter(
            "complaints_intake_rejected_total",
            "Inputs refused: invalid HTTP bodies and dead-lettered Kafka records.",
            ["reason", "source"],
            registry=registry,
        )
        self.duplicates = Counter(
            "complaints_intake_duplicates_total",
            "Resends answered from the dedup window without publishing.",
            ["source"],
            registry=registry,
        )
        self.dedup_syncs = Counter(
            "complaints_intake_dedup_syncs_total",
            "Complaints not in this process's dedup window, checked against what other intake "
            "processes accepted (complaints.accepted.v1 read to its end), by result.",
            ["result"],
            registry=registry,
        )
        for result in ("caught_up", "timeout"):
            self.dedup_syncs.labels(result=result)
        self.lifecycle = Counter(
            "complaints_intake_lifecycle_events_total",
            "Lifecycle events published.",
            ["action"],
            registry=registry,
        )
        self.backpressure = Counter(
            "complaints_intake_backpressure_total",
            "Requests or records held back because the producer queue was full or failed.",
            ["source"],
            registry=registry,
        )
        self.dedup_entries = Gauge(
            "complaints_intake_dedup_entries",
            "Complaint keys held in the dedup window.",
            registry=registry,
        )
        self.auth_refused = Counter(
            "complaints_intake_auth_refused_total",
            "Requests refused: no or unknown key (401), another channel's data or a step the "
            "channel may not report (403), over the channel's rate (429).",
            ["reason"],
            registry=registry,
        )
        self.auth_enabled = Gauge(
            "complaints_intake_auth_enabled",
            "1 when channels must present their API key (INTAKE_CHANNELS_FILE set), else 0.",
            registry=registry,
        )
        self.http_requests = Counter(
            "complaints_http_requests_total",
            "HTTP requests by route template and status.",
            ["method", "route", "status"],
            registry=registry,
        )
        self.http_duration = Histogram(
            "complaints_http_request_duration_seconds",
            "HTTP request duration by route template.",
            ["method", "route"],
            buckets=HTTP_BUCKETS,
            registry=registry,
        )

    def watch_dedup(self, size: Callable[[], int]) -> None:
        self.dedup_entries.set_function(lambda: float(size()))
