"""The job queues as the worker sees them: receive one job, extend, give back, delete, dead-letter.

SQS errors are translated here into ``QueueError`` with boto3's error kept as the cause.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from gpu_node.errors import QueueError

__all__ = ["INTAKE_SLICE_SECONDS", "DeadLetterTarget", "Delivery", "JobQueues"]

log = logging.getLogger(__name__)

T = TypeVar("T")

# The longest one SQS receive waits (WaitTimeSeconds is whole seconds). An idle node makes one
# request per slice: about 2.6 M a month, about one dollar at SQS's price, for a drain that
# stops intake within a second of the notice.
INTAKE_SLICE_SECONDS = 1

# SQS caps a message attribute value at the message size; keep the reason readable.
_REASON_MAX = 1000


@dataclass(frozen=True, kw_only=True)
class Delivery:
    """One received message and what SQS told us about it."""

    queue_url: str
    priority: bool
    message_id: str
    receipt_handle: str
    body: str
    receive_count: int
    sent_at: datetime | None

    @property
    def queue_label(self) -> str:
        return "priority" if self.priority else "standard"


@dataclass(frozen=True)
class DeadLetterTarget:
    url: str | None
    max_receive_count: int | None


class JobQueues:
    """The priority queue (optional, drained first) and the standard queue."""

    def __init__(
        self,
        *,
        sqs: Any,
        queue_url: str,
        priority_queue_url: str | None,
        dead_letter_queue_url: str | None,
        wait_seconds: int,
        visibility_seconds: int,
    ) -> None:
        self._sqs = sqs
        self._queue_url = queue_url
        self._priority_url = priority_queue_url
        self._dlq_override = dead_letter_queue_url
        self._wait = wait_seconds
        self._visibility = visibility_seconds
        self._targets: dict[str, DeadLetterTarget] = {}
        self._targets_lock = threading.Lock()
        self._deletes: queue.Queue[Delivery | None] = queue.Queue()
        self._deleter = threading.Thread(target=self._delete_loop, name="sqs-delete", daemon=True)
        self._deleter.start()

    @property
    def visibility_seconds(self) -> int:
        return self._visibility

    def receive(self, stop: threading.Event | None = None) -> Delivery | None:
        """The next job, priority first; None when the long poll found nothing, or at ``stop``.

        The long poll is made of slices of at most ``INTAKE_SLICE_SECONDS``, ``stop`` looked at
        between them: a node told to drain stops taking work within one slice, instead of
        sitting out a 20 s poll whose catch it must then give back.
        """
        if self._priority_url:
            # A short look at the priority queue, then the long poll on the standard one:
            # a priority job waits at most one long poll.
            found = self._receive_from(self._priority_url, wait=0, priority=True)
            if found:
                return found
        left = self._wait
        while True:
            wait = min(left, INTAKE_SLICE_SECONDS)
            found = self._receive_from(self._queue_url, wait=wait, priority=False)
            left -= wait
            if found or left <= 0 or (stop is not None and stop.is_set()):
                return found

    def _receive_from(self, url: str, *, wait: int, priority: bool) -> Delivery | None:
        reply = self._call(
            "receive",
            lambda: self._sqs.receive_message(
                QueueUrl=url,
                MaxNumberOfMessages=1,  # one job at a time: never hold a message we cannot run
                WaitTimeSeconds=wait,
                VisibilityTimeout=self._visibility,
                MessageSystemAttributeNames=["ApproximateReceiveCount", "SentTimestamp"],
            ),
        )
        messages = reply.get("Messages") or []
        if not messages:
            return None
        message = messages[0]
        attributes = message.get("Attributes", {})
        sent_ms = attributes.get("SentTimestamp")
        return Delivery(
            queue_url=url,
            priority=priority,
            message_id=message["MessageId"],
            receipt_handle=message["ReceiptHandle"],
            body=message.get("Body", ""),
            receive_count=int(attributes.get("ApproximateReceiveCount", "1")),
            sent_at=datetime.fromtimestamp(int(sent_ms) / 1000, UTC) if sent_ms else None,
        )

    def extend(self, delivery: Delivery) -> None:
        """Keep the message hidden for another full visibility period while the job runs."""
        self._set_visibility(delivery, self._visibility)

    def release(self, delivery: Delivery) -> None:
        """Give the message back at once: visible to every node again."""
        self._set_visibility(delivery, 0)

    def _set_visibility(self, delivery: Delivery, seconds: int) -> None:
        self._call(
            "change visibility",
            lambda: self._sqs.change_message_visibility(
                QueueUrl=delivery.queue_url,
                ReceiptHandle=delivery.receipt_handle,
                VisibilityTimeout=seconds,
            ),
        )

    def delete(self, delivery: Delivery) -> None:
        self._call(
            "delete",
            lambda: self._sqs.delete_message(
                QueueUrl=delivery.queue_url, ReceiptHandle=delivery.receipt_handle
            ),
        )

    def delete_later(self, delivery: Delivery) -> None:
        """Delete from a thread of its own, so the next job need not wait for it.

        Only for a message whose result is already stored: if the node dies before the delete
        is sent, the message comes back, finds its result whole and is deleted unrun.
        """
        self._deletes.put(delivery)

    def close(self, timeout: float = 10.0) -> None:
        """Send the deletes still queued, then stop the delete thread."""
        self._deletes.put(None)
        self._deleter.join(timeout)

    def _delete_loop(self) -> None:
        while (delivery := self._deletes.get()) is not None:
            try:
                self.delete(delivery)
            except QueueError as exc:
                log.warning(
                    "message %s not deleted (it will come back, already done): %s",
                    delivery.message_id,
                    exc,
                )

    def dead_letter_target(self, queue_url: str) -> DeadLetterTarget:
        """The queue's dead-letter queue and redrive limit, read once from its redrive policy."""
        with self._targets_lock:
            if queue_url not in self._targets:
                self._targets[queue_url] = self._discover(queue_url)
            return self._targets[queue_url]

    def _discover(self, queue_url: str) -> DeadLetterTarget:
        reply = self._call(
            "read redrive policy",
            lambda: self._sqs.get_queue_attributes(
                QueueUrl=queue_url, AttributeNames=["RedrivePolicy"]
            ),
        )
        raw = reply.get("Attributes", {}).get("RedrivePolicy")
        policy = json.loads(raw) if raw else {}
        max_receives = int(policy["maxReceiveCount"]) if "maxReceiveCount" in policy else None
        url = self._dlq_override
        if url is None and "deadLetterTargetArn" in policy:
            arn = policy["deadLetterTargetArn"]
            # arn:aws:sqs:<region>:<account>:<name>
            _, _, _, _, account, name = arn.split(":", 5)
            url = self._call(
                "find dead-letter queue",
                lambda: self._sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account),
            )["QueueUrl"]
        return DeadLetterTarget(url=url, max_receive_count=max_receives)

    def dead_letter(self, delivery: Delivery, *, reason: str, job_id: str | None) -> bool:
        """Move the message to its dead-letter queue with the reason beside it.

        Sent first, deleted second: a crash in between leaves a duplicate in the dead-letter
        queue, never a lost message. Returns False when the queue has no dead-letter queue
        (the message is then deleted: an invalid job must not loop forever).
        """
        target = self.dead_letter_target(delivery.queue_url)
        if target.url is None:
            log.error(
                "no dead-letter queue for %s; dropping invalid job: %s", delivery.queue_url, reason
            )
        else:
            attributes = {
                "spotfleet-reason": reason[:_REASON_MAX],
                "spotfleet-source-queue": delivery.queue_url,
                "spotfleet-message-id": delivery.message_id,
            }
            if job_id:
                attributes["spotfleet-job-id"] = job_id[:_REASON_MAX]
            dlq_url = target.url
            self._call(
                "send to dead-letter queue",
                lambda: self._sqs.send_message(
                    QueueUrl=dlq_url,
                    MessageBody=delivery.body or "(empty body)",
                    MessageAttributes={
                        key: {"DataType": "String", "StringValue": value}
                        for key, value in attributes.items()
                        if value
                    },
                ),
            )
        self.delete(delivery)
        return target.url is not None

    @staticmethod
    def _call(what: str, call: Callable[[], T]) -> T:
        try:
            return call()
        except (BotoCoreError, ClientError) as exc:
            raise QueueError(f"SQS {what}: {exc}") from exc
