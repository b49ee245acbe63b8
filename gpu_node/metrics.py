"""The node's Prometheus metrics, in a registry of its own (one per node, many per test run)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

__all__ = ["JobOutcome", "NodeMetrics"]


class JobOutcome:
    COMPLETED = "completed"
    FAILED = "failed"  # inside the model or while storing: left to the queue's redrive
    INVALID = "invalid"  # broke the schema: dead-lettered at once
    RELEASED = "released"  # given back on interruption
    DUPLICATE = "duplicate"  # delivered again after its result was stored: deleted, not rerun


_SECONDS = (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300)


class NodeMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.jobs = Counter(
            "spotfleet_jobs", "Jobs handled, by outcome", ["outcome"], registry=self.registry
        )
        self.job_seconds = Histogram(
            "spotfleet_job_seconds",
            "Seconds from taking a job to its result stored",
            buckets=_SECONDS,
            registry=self.registry,
        )
        self.queue_wait_seconds = Histogram(
            "spotfleet_queue_wait_seconds",
            "Seconds a job waited in SQS before this node took it",
            buckets=_SECONDS,
            registry=self.registry,
        )
        self.drains = Counter(
            "spotfleet_drains",
            "Drains started, by the notice that caused them",
            ["kind"],
            registry=self.registry,
        )
        self.notices = Counter(
            "spotfleet_interruption_notices",
            "Interruption notices seen, by kind",
            ["kind"],
            registry=self.registry,
        )
        self.event_publish_failures = Counter(
            "spotfleet_event_publish_failures",
            "Job events that could not be published",
            registry=self.registry,
        )
        self.draining = Gauge(
            "spotfleet_draining", "1 while the node drains", registry=self.registry
        )
        self.model_loaded = Gauge(
            "spotfleet_model_loaded", "1 once the model is loaded", registry=self.registry
        )
        for outcome in (
            JobOutcome.COMPLETED,
            JobOutcome.FAILED,
            JobOutcome.INVALID,
            JobOutcome.RELEASED,
            JobOutcome.DUPLICATE,
        ):
            self.jobs.labels(outcome=outcome)  # present at 0 before the first job

    def render(self) -> bytes:
        return generate_latest(self.registry)
