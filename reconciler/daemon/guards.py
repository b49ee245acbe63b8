"""Safety guards: may a placement change be applied now? A pure function over facts.

Each guard names why it refused; every refusal goes to the history with the decision.
Order matters only for the reason shown first: nothing to do, then data, then the
breaker, then the pace of change, then money, then the mode.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from reconciler.daemon.settings import Mode, SafetySettings

__all__ = ["GuardFacts", "Verdict", "check"]


@dataclass(frozen=True, slots=True)
class GuardFacts:
    now: datetime
    mode: Mode
    changed: bool  # the proposed placement differs from the one in force
    breaker_open: bool
    market_at: datetime | None  # when the collector last observed the fleet's pools
    applied_at: datetime | None  # when the placement in force was applied
    rolled_last_hour: int  # nodes rolled by changes applied within the last hour
    would_roll: int  # nodes this change would roll (their pool leaves the placement)
    planned_usd_per_hour: float
    budget_usd_per_hour: float | None
    urgent: bool = False  # a warned pool is in the placement in force: dwell does not hold
    leader: bool = True  # this daemon still holds the fleet's lease


@dataclass(frozen=True, slots=True)
class Verdict:
    apply: bool
    reason: str
    refusals: tuple[str, ...]


def check(f: GuardFacts, s: SafetySettings) -> Verdict:
    if not f.changed:
        return Verdict(False, "placement unchanged", ())
    refusals: list[str] = []
    if not f.leader:
        refusals.append("lease lost: another daemon may act on this fleet")
    if f.market_at is None:
        refusals.append("stale data: the fleet's pools were never observed")
    else:
        age = (f.now - f.market_at).total_seconds()
        if age > s.stale_after_s:
            refusals.append(
                f"stale data: market observed {age:.0f} s ago > {s.stale_after_s:.0f} s"
            )
    if f.breaker_open:
        refusals.append("circuit breaker open: reset it after fixing the failing actuation")
    if f.applied_at is not None and not f.urgent:
        dwell = (f.now - f.applied_at).total_seconds()
        if dwell < s.min_dwell_s:
            refusals.append(
                f"min dwell: placement in force for {dwell:.0f} s < {s.min_dwell_s:.0f} s"
            )
    if f.rolled_last_hour + f.would_roll > s.churn_per_hour and not (
        f.urgent and f.would_roll <= 1
    ):
        refusals.append(
            f"churn limit: {f.rolled_last_hour} rolled this hour + {f.would_roll} "
            f"> {s.churn_per_hour} per hour"
        )
    if f.budget_usd_per_hour is not None and f.planned_usd_per_hour > f.budget_usd_per_hour:
        refusals.append(
            f"budget: planned ${f.planned_usd_per_hour:.3f}/h > cap ${f.budget_usd_per_hour:.3f}/h"
        )
    if f.mode == "shadow":
        refusals.append("shadow mode: decided and recorded, nothing changed")
    if refusals:
        return Verdict(False, refusals[0], tuple(refusals))
    return Verdict(True, "applied", ())
