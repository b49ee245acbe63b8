"""Job events (gpu_node/events.py, via SNS → SQS) into the ``jobs`` table.

A body is the SNS envelope (``Message`` holds the event) or the event itself (raw
delivery). Events may arrive out of order: a row keeps the newest state by event time,
and fills the times and numbers that any event gave. A malformed body is logged and
deleted; the node's result in S3 is the truth, these are for the history.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from reconciler.core.aws import aws_call
from reconciler.core.history.jobs import JobUpdate, record_job_update
from reconciler.core.history.ledger import Ledger

__all__ = ["JobEventIn", "consume_job_events", "parse_job_event"]

log = logging.getLogger(__name__)

_STATES = {"started", "completed", "failed", "released", "dead_lettered"}


class JobEventIn(BaseModel):
    """The fields of gpu_node.events.JobEvent the history keeps (others are ignored)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    type: str
    job_id: str
    at: datetime
    instance_id: str | None = None
    pool: str | None = None
    fleet: str | None = None
    model: str | None = None
    attempts: int = 1
    submitted_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    seconds: float | None = None
    error: str | None = None


def parse_job_event(body: str) -> JobEventIn:
    """Raises ValueError for a body that is neither an SNS envelope nor a job event."""
    document: Any = json.loads(body)
    if isinstance(document, dict) and document.get("Type") == "Notification":
        document = json.loads(str(document.get("Message", "")))
    try:
        return JobEventIn.model_validate(document)
    except ValidationError as exc:
        raise ValueError(f"not a job event: {exc.error_count()} problem(s)") from exc


def record_job_event(ledger: Ledger, e: JobEventIn) -> None:
    state = e.type if e.type in _STATES else "started"  # progress: still running
    record_job_update(
        ledger,
        JobUpdate(
            job_id=e.job_id,
            state=state,
            updated_at=e.at,
            fleet=e.fleet,
            instance_id=e.instance_id,
            pool=e.pool,
            model=e.model,
            submitted_at=e.submitted_at,
            started_at=e.started_at,
            finished_at=e.finished_at,
            seconds=e.seconds,
            attempts=e.attempts,
            error=e.error,
        ),
    )


def consume_job_events(ledger: Ledger, sqs: Any, queue_url: str, *, max_batches: int = 10) -> int:
    recorded = 0
    for _ in range(max_batches):
        with aws_call("sqs:ReceiveMessage"):
            messages = sqs.receive_message(
                QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0
            ).get("Messages", [])
        if not messages:
            break
        for message in messages:
            try:
                record_job_event(ledger, parse_job_event(str(message.get("Body", ""))))
                recorded += 1
            except ValueError as exc:  # json.JSONDecodeError is a ValueError
                log.warning("dropping job event %s: %s", message.get("MessageId"), exc)
            with aws_call("sqs:DeleteMessage"):
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return recorded
