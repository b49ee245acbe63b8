"""Can the daemon collect and act? What ``/readyz`` and the readiness metrics say.

The schedule tells ``Health`` when a watched job is added and how each run ended; a
signal is stale once its job has had no success for longer than its limit (the readiness
settings: a few of its cadences). Ages are wall seconds on a monotonic clock, not the
daemon's clock, which may be a replayed market running faster than time. The lease is
re-checked on every call (without a network call), so a lease file deleted, or a DynamoDB
lease not renewed in time or taken by another, shows at once, and
the history is watched through a heartbeat write of its own (``heartbeat``).

Readiness is judged by a pure function (``reconciler.core.readiness.judge``) over those facts.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from reconciler.core.history.ledger import Ledger
from reconciler.core.readiness import Readiness, SignalHealth, judge
from reconciler.core.settings import DaemonSettings

__all__ = ["WATCHED", "Health", "heartbeat"]

# The jobs whose success means the daemon sees the world and can write what it did:
# the collectors, the reconcile (it reads the backlog and acts) and the history's heartbeat.
WATCHED = (
    "prices",
    "placement_scores",
    "advisor",
    "on_demand_prices",
    "interruptions",
    "job_events",
    "fleet",
    "reconcile",
    "history",
)


@dataclass
class _Watch:
    stale_after_s: float
    since: float  # monotonic time of the last success, or of the watch's start
    succeeded: bool = False
    last_error: str | None = None


class Health:
    def __init__(
        self,
        *,
        limits: Mapping[str, float],
        leader: Callable[[], bool],
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._limits = dict(limits)
        self._leader = leader
        self._monotonic = monotonic
        self._watches: dict[str, _Watch] = {}
        self._lock = threading.Lock()

    @classmethod
    def for_settings(cls, settings: DaemonSettings, *, leader: Callable[[], bool]) -> Health:
        limits = {
            name: settings.readiness.stale_after_s(getattr(settings.cadences, f"{name}_s"))
            for name in WATCHED
        }
        return cls(limits=limits, leader=leader)

    def leader(self) -> bool:
        """The lease, checked now (not remembered)."""
        return self._leader()

    def expect(self, job: str) -> None:
        """``job`` is on the schedule: from now on it must succeed within its limit."""
        if job in self._limits:
            with self._lock:
                self._watches[job] = _Watch(self._limits[job], self._monotonic())

    def record(self, job: str, error: str | None) -> None:
        with self._lock:
            watch = self._watches.get(job)
            if watch is None:
                return
            if error is None:
                watch.since, watch.succeeded = self._monotonic(), True
            watch.last_error = error

    def signals(self) -> tuple[SignalHealth, ...]:
        now = self._monotonic()
        with self._lock:
            return tuple(
                SignalHealth(name, now - w.since, w.stale_after_s, w.succeeded, w.last_error)
                for name, w in self._watches.items()
            )

    def readiness(self, *, scheduler_running: bool) -> Readiness:
        return judge(
            leader=self.leader(), scheduler_running=scheduler_running, signals=self.signals()
        )


def heartbeat(ledger: Ledger, now: datetime) -> None:
    """One small write: if it fails, nothing the daemon decides or does can be recorded."""
    ledger.set_state("heartbeat", now.isoformat(), now)
