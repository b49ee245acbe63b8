"""The interruption watcher: polls IMDSv2 and turns what it finds into notices.

Four sources, one small parser each, registered by metadata path:

- ``meta-data/spot/instance-action``: the two-minute spot notice, with its deadline;
- ``meta-data/events/recommendations/rebalance``: an early warning (reported, not drained);
- ``meta-data/autoscaling/target-lifecycle-state``: ``Terminated`` when the group is taking
  this node away (scale-in, instance refresh, rebalancing);
- ``meta-data/events/maintenance/scheduled``: an EC2 scheduled reboot, stop or retirement,
  handed on once its start is within the maintenance lead (``gpu_node.maintenance``).

It only produces notices, de-duplicated by id; the drain acts on them.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime

from analytics.kinds import Kind
from gpu_node.errors import MetadataError
from gpu_node.imds import ImdsClient
from gpu_node.maintenance import is_due, scheduled_maintenance
from gpu_node.notices import InterruptionNotice, notice_id

__all__ = ["PARSERS", "ImdsWatcher", "parse_notice"]

log = logging.getLogger(__name__)

Parser = Callable[[str, datetime], InterruptionNotice | None]


def _parse_time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _spot_action(payload: str, now: datetime) -> InterruptionNotice | None:
    try:
        data = json.loads(payload)
    except json.JSONDecodeError:
        data = {}
    # An unreadable notice is still a notice: drain on the default deadline rather than ignore it.
    action = data.get("action", "unknown") if isinstance(data, dict) else "unknown"
    deadline = _parse_time(data.get("time")) if isinstance(data, dict) else None
    kind = Kind.SPOT_INTERRUPTION_WARNING
    return InterruptionNotice(
        kind=kind,
        id=notice_id(kind, payload),
        observed_at=now,
        deadline=deadline,
        detail=f"spot instance-action {action}",
    )


def _rebalance(payload: str, now: datetime) -> InterruptionNotice | None:
    """``{"noticeTime": "2020-10-27T08:22:00Z"}``: when EC2 issued the recommendation."""
    try:
        data = json.loads(payload)
    except json.JSONDecodeError:
        data = {}
    issued = _parse_time(data.get("noticeTime")) if isinstance(data, dict) else None
    kind = Kind.REBALANCE_RECOMMENDATION
    return InterruptionNotice(
        kind=kind,
        id=notice_id(kind, payload),
        observed_at=now,
        deadline=None,
        detail=(
            f"rebalance recommendation issued at {issued:%Y-%m-%dT%H:%M:%SZ}"
            if issued
            else f"rebalance recommendation {payload.strip()}"
        ),
        issued_at=issued,
    )


def _target_lifecycle(payload: str, now: datetime) -> InterruptionNotice | None:
    state = payload.strip()
    if state != "Terminated":  # InService, Warmed:*, Standby... nothing to drain for
        return None
    kind = Kind.ASG_TERMINATION
    return InterruptionNotice(
        kind=kind,
        id=notice_id(kind, state),
        observed_at=now,
        deadline=None,
        detail="auto scaling target lifecycle state Terminated",
    )


PARSERS: dict[str, Parser] = {
    "meta-data/spot/instance-action": _spot_action,
    "meta-data/events/recommendations/rebalance": _rebalance,
    "meta-data/autoscaling/target-lifecycle-state": _target_lifecycle,
    "meta-data/events/maintenance/scheduled": scheduled_maintenance,
}


def parse_notice(path: str, payload: str, now: datetime) -> InterruptionNotice | None:
    parser = PARSERS.get(path)
    return parser(payload, now) if parser else None


class ImdsWatcher:
    def __init__(
        self,
        *,
        imds: ImdsClient,
        interval: float,
        emit: Callable[[InterruptionNotice], None],
        maintenance_lead_seconds: float = 600.0,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        if not 0 < interval <= 2.0:
            raise ValueError("the watcher polls every 2 seconds at most")
        self._imds = imds
        self._interval = interval
        self._emit = emit
        self._now = now
        self._lead = maintenance_lead_seconds
        self._seen: set[str] = set()
        self._held: set[str] = set()  # scheduled events seen, not yet within their lead
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._unreachable_logged = False

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="imds-watcher", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5)

    def poll_once(self) -> list[InterruptionNotice]:
        """Ask every source once; the notices not seen before are emitted and returned."""
        fresh: list[InterruptionNotice] = []
        for path in PARSERS:
            try:
                payload = self._imds.get(path)
            except MetadataError as exc:
                if not self._unreachable_logged:
                    log.warning("interruption watcher cannot read IMDS: %s", exc)
                    self._unreachable_logged = True
                return fresh
            if payload is None:
                continue
            now = self._now()
            notice = parse_notice(path, payload, now)
            if notice is None or notice.id in self._seen:
                continue
            if not is_due(notice, now, lead_seconds=self._lead):
                if notice.id not in self._held:  # said once; polled until it is due
                    self._held.add(notice.id)
                    log.warning(
                        "%s: draining from %s s before it", notice.detail, f"{self._lead:g}"
                    )
                continue
            self._seen.add(notice.id)
            fresh.append(notice)
            self._emit(notice)
        return fresh

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll_once()
            except Exception:  # the watcher must outlive any surprise; the drain needs it
                log.exception("interruption watcher poll failed")
            self._stop.wait(self._interval)
