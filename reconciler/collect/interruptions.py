"""The interruption queue: receive, parse through the registry, keep ours, record, delete.

Karpenter's pipe: a message is parsed by ``analytics.events.parse_envelope`` (a registry
keyed by source and detail-type; unknown kinds are a no-op); one that cannot be parsed is
logged, kept raw in the history and deleted so it cannot loop. The queue is account-wide,
so only events about the daemon's own instances are kept. Events are de-duplicated by id:
a redelivered warning reacts once. A message is deleted only after it was recorded. What an
event asks for is ``reactions.react``'s pure answer, given the time and the node's state
(a stale event is recorded and reacts not).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from analytics.events import EventParseError, InterruptionEvent, parse_envelope, unparseable_event
from reconciler.core.aws import aws_call
from reconciler.core.history.interruption_writes import record_own_events, record_unparseable
from reconciler.core.history.ledger import Ledger, naive
from reconciler.core.reactions import Reaction, act_by, react

__all__ = ["Consumed", "consume_interruptions"]

log = logging.getLogger(__name__)


@dataclass
class Consumed:
    received: int = 0
    recorded: int = 0
    foreign: int = 0
    unparseable: int = 0
    reactions: list[Reaction] = field(default_factory=list)


def consume_interruptions(
    ledger: Ledger,
    sqs: Any,
    queue_url: str,
    *,
    own_instances: Callable[[set[str]], set[str]],
    now: datetime,
    max_batches: int = 10,
    grace: timedelta = timedelta(0),
) -> Consumed:
    out = Consumed()
    for _ in range(max_batches):
        with aws_call("sqs:ReceiveMessage"):
            reply = sqs.receive_message(
                QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0
            )
        messages = reply.get("Messages", [])
        if not messages:
            break
        parsed = [_parse(m) for m in messages]
        named = {e.instance_id for _, events in parsed if events for e in events if e.instance_id}
        ours = own_instances(named) if named else set()
        for message, (problem, events) in zip(messages, parsed, strict=True):
            out.received += 1
            _handle(ledger, message, problem, events, ours, now, out, grace)
            with aws_call("sqs:DeleteMessage"):
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return out


def _parse(message: dict[str, Any]) -> tuple[str | None, list[InterruptionEvent] | None]:
    try:
        return None, parse_envelope(str(message.get("Body", "")))
    except EventParseError as exc:
        return str(exc), None


def _handle(
    ledger: Ledger,
    message: dict[str, Any],
    problem: str | None,
    events: list[InterruptionEvent] | None,
    ours: set[str],
    now: datetime,
    out: Consumed,
    grace: timedelta,
) -> None:
    body = str(message.get("Body", ""))
    if events is None:
        log.warning("unparseable interruption message %s: %s", message.get("MessageId"), problem)
        out.recorded += record_unparseable(
            ledger, unparseable_event(body, str(problem), naive(now))
        )
        out.unparseable += 1
        return
    kept: list[InterruptionEvent] = []
    for event in events:
        if event.instance_id is None or event.instance_id not in ours:
            out.foreign += 1
            continue
        kept.append(event)
    if not kept:
        return
    recorded = record_own_events(ledger, kept)
    out.recorded += recorded.recorded
    for event in kept:
        if event.event_id in recorded.known:
            continue  # a redelivery: it already reacted
        pool = event.pool or recorded.pools.get(event.event_id)
        reaction = react(
            dataclasses.replace(event, pool=pool),
            now=naive(now),
            node_state=recorded.node_states.get(event.event_id),
            grace=grace,
        )
        if reaction is None:
            stale = naive(now) >= act_by(event) + grace
            log.info(
                "%s %s about %s recorded; no action%s",
                event.kind.value,
                event.event_id,
                event.instance_id,
                f" (stale: its deadline {act_by(event):%Y-%m-%dT%H:%M:%S}Z has passed)"
                if stale
                else "",
            )
            continue
        out.reactions.append(reaction)
