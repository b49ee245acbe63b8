"""Builds job events with this node's identity and publishes them, best-effort."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from gpu_node.errors import EventPublishError
from gpu_node.events import EventPublisher, JobEvent, JobEventType
from gpu_node.identity import NodeIdentity
from gpu_node.metrics import NodeMetrics
from gpu_node.queues import Delivery

__all__ = ["JobReporter"]

log = logging.getLogger(__name__)


class JobReporter:
    def __init__(
        self,
        *,
        publisher: EventPublisher,
        identity: NodeIdentity,
        fleet: str | None,
        model: str,
        metrics: NodeMetrics,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._publisher = publisher
        self._identity = identity
        self._fleet = fleet
        self._model = model
        self._metrics = metrics
        self._now = now

    def report(
        self, type_: JobEventType, delivery: Delivery, job_id: str | None, **fields: Any
    ) -> JobEvent:
        event = JobEvent(
            type=type_,
            job_id=job_id or f"sqs:{delivery.message_id}",
            message_id=delivery.message_id,
            at=self._now(),
            instance_id=self._identity.instance_id,
            instance_type=self._identity.instance_type,
            pool=self._identity.pool,
            fleet=self._fleet,
            model=fields.pop("model", self._model),
            queue=delivery.queue_label,
            attempts=delivery.receive_count,
            **fields,
        )
        log.info("job %s %s%s", event.job_id, event.type, f": {event.error}" if event.error else "")
        try:
            self._publisher.publish(event)
        except EventPublishError as exc:
            self.publish_failed(exc)
        return event

    def publish_failed(self, exc: EventPublishError) -> None:
        self._metrics.event_publish_failures.inc()
        log.warning("job event not published: %s", exc)
