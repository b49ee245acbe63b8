"""EC2 scheduled events (``meta-data/events/maintenance/scheduled``) as interruption notices.

AWS schedules a reboot, a stop or a retirement of the instance days ahead, with the earliest
start (``NotBefore``). The node drains for it on the same path as a spot notice, with the
event's ``NotBefore`` as the drain's deadline, once that is no further away than the lead it
needs (``SPOTFLEET_MAINTENANCE_LEAD_SECONDS``): draining days early would idle a paid node,
draining late would lose the work. Completed and canceled events are history, not news.

Pure: the payload and "now" in, a notice (or none) out.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from analytics.kinds import Kind
from gpu_node.notices import InterruptionNotice, notice_id

__all__ = ["ScheduledEvent", "is_due", "parse_scheduled_events", "scheduled_maintenance"]

# What IMDS writes: "21 Jan 2019 09:00:43 GMT" (the day not zero-padded).
_IMDS_TIME = "%d %b %Y %H:%M:%S GMT"
_OVER = ("completed", "canceled")


@dataclass(frozen=True, kw_only=True)
class ScheduledEvent:
    # system-reboot, instance-reboot, system-maintenance, instance-retirement, instance-stop
    code: str
    state: str  # active, completed, canceled
    event_id: str
    description: str
    not_before: datetime | None

    @property
    def pending(self) -> bool:
        # The state says it; older events say it only in the description ("[Completed] ...").
        described_over = any(self.description.lower().startswith(f"[{s}]") for s in _OVER)
        return self.state.lower() not in _OVER and not described_over


def parse_imds_time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.strptime(value.strip(), _IMDS_TIME).replace(tzinfo=UTC)
    except ValueError:
        pass
    try:  # RFC 3339, as the other IMDS paths write times
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_scheduled_events(payload: str) -> list[ScheduledEvent] | None:
    """The events in the payload; None when it cannot be read as events at all.

    IMDS answers a list; amazon-ec2-metadata-mock's README shows a single object: both are read.
    """
    try:
        data: Any = json.loads(payload)
    except ValueError:
        return None
    items = data if isinstance(data, list) else [data]
    if not all(isinstance(item, dict) for item in items):
        return None
    return [
        ScheduledEvent(
            code=str(item.get("Code", "unknown")),
            state=str(item.get("State", "active")),
            event_id=str(item.get("EventId", "")),
            description=str(item.get("Description", "")),
            not_before=parse_imds_time(item.get("NotBefore")),
        )
        for item in items
    ]


def scheduled_maintenance(payload: str, now: datetime) -> InterruptionNotice | None:
    """The notice for the earliest pending event, or None when nothing is pending."""
    kind = Kind.SCHEDULED_CHANGE
    events = parse_scheduled_events(payload)
    if events is None:
        # An unreadable notice is still a notice: drain on the default deadline.
        return InterruptionNotice(
            kind=kind,
            id=notice_id(kind, payload),
            observed_at=now,
            deadline=None,
            detail="scheduled event (unreadable)",
        )
    pending = [event for event in events if event.pending]
    if not pending:
        return None
    # An event with no readable start could start at any moment: it sorts first.
    first = min(pending, key=lambda e: e.not_before or datetime.min.replace(tzinfo=UTC))
    start = first.not_before.isoformat() if first.not_before else "an unreadable time"
    return InterruptionNotice(
        kind=kind,
        id=notice_id(kind, f"{first.event_id}\n{first.code}\n{first.not_before}"),
        observed_at=now,
        deadline=first.not_before,
        detail=f"scheduled event {first.code} {first.event_id} not before {start}",
    )


def is_due(notice: InterruptionNotice, now: datetime, *, lead_seconds: float) -> bool:
    """Whether to hand the notice to the drain now: a scheduled event only within its lead."""
    if notice.kind is not Kind.SCHEDULED_CHANGE or notice.deadline is None:
        return True
    return (notice.deadline - now).total_seconds() <= lead_seconds
