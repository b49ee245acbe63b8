"""One interruption-event type for every source of bad news.

EventBridge envelopes are parsed through a registry keyed by (source, detail-type), one small
function per kind; a kind not in the registry is a no-op (an empty list), and a message that is
not an envelope at all raises ``EventParseError`` so the caller can keep it raw and move on.
An envelope an SNS topic delivered (an SNS ``Notification`` whose ``Message`` is the envelope)
is unwrapped first. The daemon's queue consumer and the ``events`` ingest both go through
``parse_envelope``.

Each event carries its ``deadline``: when the instance goes away or the change happens (a spot
warning's two minutes, a capacity reservation's termination time, a Health change's
``startTime``, a state change at once). The reactions use it to ignore stale news.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

from analytics.errors import AnalyticsError
from analytics.kinds import Kind

__all__ = [
    "EventParseError",
    "InterruptionEvent",
    "parse_envelope",
    "unparseable_event",
]


class EventParseError(AnalyticsError):
    """The message is not an EventBridge envelope spotfleet can read."""


@dataclass(frozen=True, slots=True)
class InterruptionEvent:
    event_id: str
    kind: Kind
    ts: datetime  # UTC, naive
    source: str
    raw: str
    region: str | None = None
    instance_id: str | None = None
    detail: str | None = None
    pool: str | None = None
    nodes_lost: int | None = None
    deadline: datetime | None = None  # UTC, naive: when the instance goes or the change starts


# The spot notice and the capacity reservation notice both give two minutes.
WARNING_NOTICE = timedelta(minutes=2)


_Parser = Callable[[Mapping[str, Any], Mapping[str, Any], str], list[InterruptionEvent]]
_PARSERS: dict[tuple[str, str], _Parser] = {}


def _parses(source: str, detail_type: str) -> Callable[[_Parser], _Parser]:
    def register(parser: _Parser) -> _Parser:
        _PARSERS[(source, detail_type)] = parser
        return parser

    return register


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def _iso(value: object, name: str) -> datetime:
    if not isinstance(value, str):
        raise EventParseError(f"the envelope has no {name!r}")
    try:
        return _utc(datetime.fromisoformat(value))
    except ValueError as exc:
        raise EventParseError(f"{name!r} {value!r} is not an ISO 8601 time") from exc


def _time(envelope: Mapping[str, Any]) -> datetime:
    return _iso(envelope.get("time"), "time")


def _start_time(value: object) -> datetime | None:
    """AWS Health writes ``startTime`` as an RFC 1123 date (``Sat, 05 Jun 2016 15:10:09
    GMT``); ISO 8601 is taken too."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return _utc(parsedate_to_datetime(value))
    except (TypeError, ValueError):
        return _iso(value, "detail.startTime")


_Deadline = Callable[[Mapping[str, Any], datetime], datetime | None]


def _instance_event(kind: Kind, detail_key: str | None, deadline: _Deadline) -> _Parser:
    def parse(
        envelope: Mapping[str, Any], detail: Mapping[str, Any], raw: str
    ) -> list[InterruptionEvent]:
        instance = detail.get("instance-id")
        if not isinstance(instance, str) or not instance:
            raise EventParseError(f"{envelope.get('detail-type')} has no detail.instance-id")
        ts = _time(envelope)
        return [
            InterruptionEvent(
                event_id=_event_id(envelope, raw),
                kind=kind,
                ts=ts,
                source=str(envelope["source"]),
                raw=raw,
                region=_region(envelope),
                instance_id=instance,
                detail=str(detail[detail_key]) if detail_key and detail.get(detail_key) else None,
                deadline=deadline(detail, ts),
            )
        ]

    return parse


def _termination_time(detail: Mapping[str, Any], ts: datetime) -> datetime:
    given = detail.get("instance-termination-time")
    return _iso(given, "detail.instance-termination-time") if given else ts + WARNING_NOTICE


_parses("aws.ec2", "EC2 Spot Instance Interruption Warning")(
    _instance_event(
        Kind.SPOT_INTERRUPTION_WARNING, "instance-action", lambda _d, ts: ts + WARNING_NOTICE
    )
)
_parses("aws.ec2", "EC2 Capacity Reservation Instance Interruption Warning")(
    _instance_event(
        Kind.CAPACITY_RESERVATION_INTERRUPTION_WARNING, "instance-action", _termination_time
    )
)
_parses("aws.ec2", "EC2 Instance Rebalance Recommendation")(
    _instance_event(Kind.REBALANCE_RECOMMENDATION, None, lambda _d, _ts: None)
)
_parses("aws.ec2", "EC2 Instance State-change Notification")(
    _instance_event(Kind.INSTANCE_STATE_CHANGE, "state", lambda _d, ts: ts)
)


@_parses("aws.health", "AWS Health Event")
def _health(
    envelope: Mapping[str, Any], detail: Mapping[str, Any], raw: str
) -> list[InterruptionEvent]:
    """One event per affected instance (a scheduled change can name many), or one for the
    account when it names none. A scheduled change to EC2 (what Karpenter acts on) is its own
    kind, with ``startTime`` as its deadline."""
    code = detail.get("eventTypeCode")
    if not isinstance(code, str):
        raise EventParseError("AWS Health Event has no detail.eventTypeCode")
    scheduled = detail.get("service") == "EC2" and detail.get("eventTypeCategory") == (
        "scheduledChange"
    )
    starts = _start_time(detail.get("startTime"))
    entities = detail.get("affectedEntities") or []
    instances: list[str | None] = [
        str(e["entityValue"])
        for e in entities
        if isinstance(e, Mapping) and str(e.get("entityValue", "")).startswith("i-")
    ]
    base = _event_id(envelope, raw)
    return [
        InterruptionEvent(
            event_id=f"{base}:{instance}" if instance else base,
            kind=Kind.SCHEDULED_CHANGE if scheduled else Kind.HEALTH,
            ts=_time(envelope),
            source="aws.health",
            raw=raw,
            region=_region(envelope),
            instance_id=instance,
            detail=code,
            deadline=starts,
        )
        for instance in (instances or [None])
    ]


def _region(envelope: Mapping[str, Any]) -> str | None:
    region = envelope.get("region")
    return region if isinstance(region, str) and region else None


def _event_id(envelope: Mapping[str, Any], raw: str) -> str:
    """The envelope's own id; a hash of the payload when it has none, so a redelivery of the
    same message is still recognised as the same event."""
    given = envelope.get("id")
    if isinstance(given, str) and given:
        return given
    return "sha256-" + hashlib.sha256(raw.encode()).hexdigest()[:32]


def parse_envelope(message: str | Mapping[str, Any]) -> list[InterruptionEvent]:
    """Parse one EventBridge envelope. Unknown (source, detail-type): ``[]``.

    Raises ``EventParseError`` when the message is not an envelope: not JSON, no source,
    detail-type or detail, or a known kind missing the fields it must have.
    """
    if isinstance(message, str):
        raw = message
        envelope = _loads(message, "")
    else:
        envelope = message
        raw = json.dumps(message, sort_keys=True, default=str)
    if not isinstance(envelope, Mapping):
        raise EventParseError("not a JSON object")
    inner = _sns_message(envelope)
    if inner is not None:
        envelope = inner
    source, detail_type = envelope.get("source"), envelope.get("detail-type")
    if not isinstance(source, str) or not isinstance(detail_type, str):
        raise EventParseError("not an EventBridge envelope: needs 'source' and 'detail-type'")
    detail = envelope.get("detail")
    if not isinstance(detail, Mapping):
        raise EventParseError(f"{detail_type}: 'detail' must be an object")
    parser = _PARSERS.get((source, detail_type))
    return parser(envelope, detail, raw) if parser else []


def _loads(text: str, what: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise EventParseError(f"{what}not JSON ({exc.msg} at position {exc.pos})") from exc
    except RecursionError as exc:
        # An envelope is a few levels deep; this is no envelope, and must not crash the reader.
        raise EventParseError(f"{what}not an envelope: JSON nested too deeply") from exc


def _sns_message(envelope: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The EventBridge envelope inside an SNS notification (a queue subscribed to a topic
    without raw message delivery receives SNS's wrapper, the envelope a string in it)."""
    if envelope.get("Type") != "Notification" or "TopicArn" not in envelope:
        return None
    message = envelope.get("Message")
    if not isinstance(message, str):
        raise EventParseError("an SNS notification without a 'Message' string")
    inner = _loads(message, "the SNS notification's Message is ")
    if not isinstance(inner, Mapping):
        raise EventParseError("the SNS notification's Message is not a JSON object")
    return inner


def unparseable_event(raw: str, problem: str, received_at: datetime) -> InterruptionEvent:
    """What the history keeps of a message that could not be parsed."""
    return InterruptionEvent(
        event_id="sha256-" + hashlib.sha256(raw.encode()).hexdigest()[:32],
        kind=Kind.UNPARSEABLE,
        ts=received_at,
        source="unparseable",
        raw=raw,
        detail=problem,
    )
