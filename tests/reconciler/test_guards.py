"""The guards on the whole plan: what each holds back, by the purpose of an action."""

from __future__ import annotations

from dataclasses import replace

from reconciler.control import GuardState, Limits, check_plan
from reconciler.decide.planner import Drain, LaunchOnDemand, LaunchSpot

NOW = 1_000_000.0
LIMITS = Limits(min_dwell_s=1800.0, churn_per_hour=2, stale_after_s=900.0)
STATE = GuardState(
    now=NOW,
    acting_mode=True,
    leader=True,
    breaker_open=False,
    market_age_s=60.0,
    last_move_at=None,
    drained_last_hour=0,
    budget_usd_per_hour=None,
)
P, Q = "us-east-1/us-east-1a/g5.xlarge", "us-east-1/us-east-1b/g5.xlarge"
FILL = LaunchSpot(P, "fill", "fill")
SPARE = LaunchSpot(Q, "spare", "spare")
MOVE = LaunchSpot(Q, "move", "move")
MOVED = Drain("i-1", P, "moved", "moved")
SURPLUS = Drain("i-2", P, "surplus", "surplus")
BACK = Drain("i-3", None, "back to spot", "back_to_spot")
FALLBACK = LaunchOnDemand("us-east-1", "fallback", "fallback")
PRICES: dict[str | None, float] = {P: 0.4, Q: 0.5, None: 1.0}


def check(actions, **state):
    return check_plan(
        tuple(actions), replace(STATE, **state), LIMITS, held_usd_per_hour=0.0, price_of=PRICES
    )


def held(verdict) -> dict[str, str]:
    return {a.purpose: why for a, why in verdict.held_back}


def test_without_the_lease_or_in_shadow_nothing_goes_and_everything_says_why() -> None:
    for state, word in (({"leader": False}, "lease lost"), ({"acting_mode": False}, "shadow")):
        v = check([FILL, SURPLUS], **state)
        assert not v.acts and v.allowed == () and word in v.reason
        assert all(word in why for why in held(v).values())


def test_a_paused_fleet_applies_nothing_not_even_recovery_and_says_who_paused_it() -> None:
    v = check([FILL, FALLBACK, SURPLUS], paused="bad AMI")
    assert not v.acts and v.allowed == ()
    assert v.reason.startswith("paused by an operator (bad AMI)")
    assert all("paused by an operator (bad AMI)" in why for why in held(v).values())


def test_recovery_goes_through_a_breaker_stale_data_and_the_dwell() -> None:
    v = check([FILL, SPARE, FALLBACK], breaker_open=True, market_age_s=5000.0, last_move_at=NOW - 1)
    assert v.allowed == (FILL, SPARE, FALLBACK) and v.reason == "applied"


def test_an_open_breaker_holds_every_optimisation() -> None:
    v = check([MOVE, MOVED, SURPLUS, BACK], breaker_open=True)
    assert v.allowed == () and set(held(v)) == {"move", "moved", "surplus", "back_to_spot"}


def test_stale_data_holds_moves_but_not_shedding_surplus() -> None:
    v = check([MOVE, MOVED, SURPLUS, BACK], market_age_s=5000.0)
    assert v.allowed == (SURPLUS, BACK)
    assert "stale data" in held(v)["move"] and "stale data" in held(v)["moved"]


def test_a_new_move_waits_for_the_dwell_but_finishing_one_does_not() -> None:
    v = check([MOVE, MOVED], last_move_at=NOW - 60)
    assert v.allowed == (MOVED,) and "min dwell" in held(v)["move"]
    assert check([MOVE], last_move_at=NOW - 1801).allowed == (MOVE,)


def test_the_churn_limit_counts_serving_spot_nodes_drained_within_the_hour() -> None:
    v = check([MOVED, SURPLUS, BACK], drained_last_hour=1)
    assert v.allowed == (MOVED, BACK)  # an on-demand node is not churn
    assert "churn limit" in held(v)["surplus"]


def test_the_budget_drops_spares_first_then_fills_never_past_the_cap() -> None:
    v = check([FILL, SPARE, FALLBACK], budget_usd_per_hour=1.5)
    assert v.allowed == (FILL, FALLBACK)  # 0.4 + 1.0 fits under 1.5; the spare does not
    assert "budget" in held(v)["spare"]
    v = check([FILL, SPARE, FALLBACK], budget_usd_per_hour=0.45)
    assert v.allowed == (FILL,)
