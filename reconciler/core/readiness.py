"""Readiness: the verdict ``/readyz`` and the readiness metrics give, and the pure rule that
gives it (``judge``) over the facts the daemon's ``Health`` keeps (the lease, the schedule, each
watched signal's age). Here, below the API, so the API shows it without importing the daemon.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

__all__ = ["Readiness", "Reason", "SignalHealth", "judge"]

# The readiness metric's reason label: a small fixed set, so it never grows a series per
# message; the message itself is in /readyz.
Reason = Literal[
    "ready", "standby", "lease_lost", "schedule_stopped", "history_unwritable", "signal_stale"
]


@dataclass(frozen=True, slots=True)
class SignalHealth:
    name: str
    age_s: float  # since the last success; before the first, since the job was added
    stale_after_s: float
    succeeded: bool  # at least once
    last_error: str | None  # of the last run, if it failed

    @property
    def stale(self) -> bool:
        return self.age_s > self.stale_after_s

    def describe(self) -> str:
        since = "no success yet" if not self.succeeded else "no success"
        text = f"{self.name}: {since} for {self.age_s:.0f} s (limit {self.stale_after_s:.0f} s)"
        return f"{text}; last error: {self.last_error}" if self.last_error else text


@dataclass(frozen=True, slots=True)
class Readiness:
    ready: bool
    reason: Reason
    detail: str
    signals: tuple[SignalHealth, ...] = ()


def judge(*, leader: bool, scheduler_running: bool, signals: Sequence[SignalHealth]) -> Readiness:
    """Ready only when leading, scheduling, and every watched signal is fresh; otherwise
    the first of these that fails is the reason, and the detail names every stale signal."""
    kept = tuple(signals)
    if not leader:
        return Readiness(
            False,
            "lease_lost",
            "the lease is no longer held (a lease file deleted or replaced; a DynamoDB lease "
            "not renewed in time, or taken by another daemon with a newer fencing token): this "
            "daemon does not act; restart it to stand by and take the lease again",
            kept,
        )
    if not scheduler_running:
        return Readiness(False, "schedule_stopped", "the schedule is not running", kept)
    stale = [s for s in kept if s.stale]
    if not stale:
        return Readiness(True, "ready", "leader", kept)
    detail = "; ".join(s.describe() for s in stale)
    if any(s.name == "history" for s in stale):
        return Readiness(
            False, "history_unwritable", f"the history is not writable: {detail}", kept
        )
    return Readiness(False, "signal_stale", f"stale signals: {detail}", kept)
