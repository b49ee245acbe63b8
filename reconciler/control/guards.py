"""The guards, checked once, in one place, on the whole plan: a pure function.

What a guard may do depends on why an action is in the plan (``Purpose``):

- nothing is applied in shadow mode, without the lease or while an operator has paused the
  fleet (the whole plan is recorded);
- recovery (``fill``, ``spare``, ``fallback``: the launches that keep K nodes serving) is never
  held back by a pace-of-change guard, stale data or the breaker: guards slow optimisation,
  never recovery;
- optimisation (``move``, ``moved``, ``surplus``, ``back_to_spot``) waits while the breaker is
  open; moves (which rest on what the market is doing) also wait on stale market data, and a
  new move waits for the dwell since the last one; drains of serving spot nodes stop at the
  churn limit;
- the budget caps the whole fleet's $/h, scaling included: launches are kept, spot to K
  first, then on-demand to K, moves and spares, while the fleet still fits under it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from reconciler.core.settings import SafetySettings
from reconciler.decide.planner import RECOVERY, Action, Drain, LaunchOnDemand, LaunchSpot, Purpose

__all__ = ["GuardState", "Limits", "Verdict", "check_plan"]

# Under the budget, launches are kept in this order: spot to K, on-demand to K, moves, spares.
_BUDGET_ORDER: dict[Purpose, int] = {"fill": 0, "fallback": 1, "move": 2, "spare": 3}


@dataclass(frozen=True, slots=True)
class Limits:
    min_dwell_s: float  # between two moves ahead of predicted loss
    churn_per_hour: int  # serving spot nodes drained by optimisation, per hour
    stale_after_s: float  # market data older than this holds optimisation back

    @classmethod
    def of(cls, safety: SafetySettings) -> Limits:
        return cls(safety.min_dwell_s, safety.churn_per_hour, safety.stale_after_s)


@dataclass(frozen=True, slots=True)
class GuardState:
    now: float
    acting_mode: bool  # False in shadow mode
    leader: bool  # this daemon holds the fleet's lease (re-checked just before)
    breaker_open: bool
    market_age_s: float | None  # None: no pool of the fleet observed within the lookback
    last_move_at: float | None  # when the last move ahead of predicted loss started
    drained_last_hour: int  # serving spot nodes drained by optimisation within the hour
    budget_usd_per_hour: float | None
    paused: str | None = None  # an operator paused the fleet: why (nothing is applied)


@dataclass(frozen=True)
class Verdict:
    acts: bool  # False: nothing is applied (shadow, lease lost)
    allowed: tuple[Action, ...]
    held_back: tuple[tuple[Action, str], ...]  # each with the guard that held it
    reason: str


def check_plan(
    actions: tuple[Action, ...],
    state: GuardState,
    limits: Limits,
    *,
    held_usd_per_hour: float,
    price_of: Mapping[str | None, float],
) -> Verdict:
    """Which of ``actions`` go ahead now. ``held_usd_per_hour``: what the nodes the fleet keeps
    cost; ``price_of``: $/h of a launch by pool name (None: on-demand)."""
    if not state.leader:
        held = tuple((a, "lease lost: another daemon may act on this fleet") for a in actions)
        return Verdict(False, (), held, "lease lost: nothing applied")
    if state.paused is not None:
        paused = f"paused by an operator ({state.paused}): decided and recorded, nothing changed"
        return Verdict(False, (), tuple((a, paused) for a in actions), paused)
    if not state.acting_mode:
        held = tuple((a, "shadow mode: decided and recorded, nothing changed") for a in actions)
        return Verdict(False, (), held, "shadow mode: decided and recorded, nothing changed")

    stale = _stale(state, limits)
    breaker = (
        "circuit breaker open: reset it after fixing the failing actuation"
        if state.breaker_open
        else None
    )
    allowed: list[Action] = []
    held_back: list[tuple[Action, str]] = []
    drains_left = max(0, limits.churn_per_hour - state.drained_last_hour)
    move_started = False
    for action in actions:
        purpose = action.purpose
        why: str | None = None
        if purpose not in RECOVERY:
            # Moves rest on what the market is doing; shedding surplus or on-demand does not.
            why = breaker or (stale if purpose in ("move", "moved") else None)
            if why is None and purpose == "move":
                why = _dwell(state, limits) if not move_started else None
                move_started = why is None
            if why is None and isinstance(action, Drain) and action.pool is not None:
                if drains_left <= 0:
                    why = (
                        f"churn limit: {state.drained_last_hour} serving nodes drained this "
                        f"hour, at most {limits.churn_per_hour}"
                    )
                else:
                    drains_left -= 1
        if why is None:
            allowed.append(action)
        else:
            held_back.append((action, why))

    allowed, over_budget = _within_budget(allowed, state, held_usd_per_hour, price_of)
    held_back.extend(over_budget)
    reason = held_back[0][1] if held_back else "applied"
    return Verdict(True, tuple(allowed), tuple(held_back), reason)


def _stale(state: GuardState, limits: Limits) -> str | None:
    if state.market_age_s is None:
        return "stale data: no pool of the fleet was observed within the lookback"
    if state.market_age_s > limits.stale_after_s:
        return (
            f"stale data: market observed {state.market_age_s:.0f} s ago "
            f"> {limits.stale_after_s:.0f} s"
        )
    return None


def _dwell(state: GuardState, limits: Limits) -> str | None:
    if state.last_move_at is None:
        return None
    since = state.now - state.last_move_at
    if since < limits.min_dwell_s:
        return f"min dwell: last move {since:.0f} s ago < {limits.min_dwell_s:.0f} s"
    return None


def _within_budget(
    allowed: list[Action],
    state: GuardState,
    held_usd_per_hour: float,
    price_of: Mapping[str | None, float],
) -> tuple[list[Action], list[tuple[Action, str]]]:
    cap = state.budget_usd_per_hour
    if cap is None:
        return allowed, []

    def launch_price(a: Action) -> float:
        if isinstance(a, LaunchSpot):
            return price_of.get(a.pool, 0.0)
        if isinstance(a, LaunchOnDemand):
            return price_of.get(None, 0.0)
        return 0.0

    def drain_saving(a: Action) -> float:
        if not isinstance(a, Drain):
            return 0.0
        return price_of.get(a.pool, 0.0)

    # Launches are kept, most needed first, while the fleet still fits under the cap.
    total = held_usd_per_hour - sum(drain_saving(a) for a in allowed)
    dropped: list[tuple[Action, str]] = []
    launches = sorted(
        (a for a in allowed if isinstance(a, LaunchSpot | LaunchOnDemand)),
        key=lambda a: _BUDGET_ORDER.get(a.purpose, len(_BUDGET_ORDER)),
    )
    for action in launches:
        if total + launch_price(action) <= cap + 1e-9:
            total += launch_price(action)
        else:
            dropped.append((action, f"budget: the fleet would cost more than the cap ${cap:.3f}/h"))
    gone = {id(a) for a, _ in dropped}
    return [a for a in allowed if id(a) not in gone], dropped
