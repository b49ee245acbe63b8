"""Job events: what a node tells the application and the history about each job.

One typed model for every kind, published as JSON to the SNS topic when one is configured.
The history store parses the same model into its ``jobs`` table; ``type`` is the state.
Events are best-effort: the result in S3 is the truth, so a failed publish is logged and
counted, never allowed to stop a job.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel, ConfigDict

from gpu_node.errors import EventPublishError

__all__ = [
    "EVENT_SCHEMA_VERSION",
    "BackgroundPublisher",
    "EventPublisher",
    "JobEvent",
    "JobEventType",
    "NullPublisher",
    "SnsPublisher",
]

log = logging.getLogger(__name__)

EVENT_SCHEMA_VERSION = 1


class JobEventType(StrEnum):
    STARTED = "started"
    PROGRESS = "progress"
    COMPLETED = "completed"
    FAILED = "failed"
    RELEASED = "released"  # given back to the queue on interruption
    DEAD_LETTERED = "dead_lettered"  # sent to, or will be moved to, the dead-letter queue


class JobEvent(BaseModel):
    """One thing that happened to one job on one node. Timestamps are timezone-aware UTC."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    schema_version: int = EVENT_SCHEMA_VERSION
    type: JobEventType
    # The job's own id; for a message that has none (not JSON, no job_id) it is
    # ``sqs:<message id>`` so the history still has one row per message.
    job_id: str
    message_id: str
    at: datetime
    instance_id: str
    instance_type: str
    pool: str
    fleet: str | None = None
    model: str | None = None
    queue: str | None = None  # "priority" or "standard"
    attempts: int = 1  # SQS ApproximateReceiveCount of this delivery
    submitted_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    seconds: float | None = None  # started -> finished on this node
    step: int | None = None
    total_steps: int | None = None
    error: str | None = None


class EventPublisher(Protocol):
    def publish(self, event: JobEvent) -> None: ...


class NullPublisher:
    """No topic configured: events go nowhere (the log still has them)."""

    def publish(self, event: JobEvent) -> None:
        log.debug("event %s %s", event.type, event.job_id)


class SnsPublisher:
    def __init__(self, *, sns: Any, topic_arn: str) -> None:
        self._sns = sns
        self._topic_arn = topic_arn

    def publish(self, event: JobEvent) -> None:
        try:
            self._sns.publish(
                TopicArn=self._topic_arn,
                Message=event.model_dump_json(),
                # A subscriber can filter on the type without parsing the body.
                MessageAttributes={"type": {"DataType": "String", "StringValue": str(event.type)}},
            )
        except (BotoCoreError, ClientError) as exc:
            raise EventPublishError(f"publish {event.type} for {event.job_id}: {exc}") from exc


class BackgroundPublisher:
    """Publishes from a thread of its own, in order, so a job never waits on SNS.

    ``close`` flushes what is queued (bounded by a timeout): the node calls it before exiting,
    so the last ``released`` event still goes out.
    """

    _STOP = object()

    def __init__(
        self, inner: EventPublisher, *, on_failure: Callable[[EventPublishError], None]
    ) -> None:
        self._inner = inner
        self._on_failure = on_failure
        self._queue: queue.Queue[object] = queue.Queue(maxsize=10000)
        self._thread = threading.Thread(target=self._run, name="job-events", daemon=True)
        self._thread.start()

    def publish(self, event: JobEvent) -> None:
        try:
            self._queue.put_nowait(event)
        except queue.Full as exc:  # SNS is down for long: drop, do not grow without bound
            self._on_failure(EventPublishError(f"event queue full; dropped {event.type}"))
            log.debug("dropped", exc_info=exc)

    def close(self, timeout: float = 10.0) -> None:
        self._queue.put(self._STOP)
        self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is self._STOP:
                return
            assert isinstance(item, JobEvent)
            try:
                self._inner.publish(item)
            except EventPublishError as exc:
                self._on_failure(exc)
