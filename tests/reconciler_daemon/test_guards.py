from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from reconciler.daemon.guards import GuardFacts, check
from reconciler.daemon.settings import SafetySettings

from .conftest import T0

S = SafetySettings(churn_per_hour=4, min_dwell_s=1800, stale_after_s=900)
OK = GuardFacts(
    now=T0,
    mode="pulumi",
    changed=True,
    breaker_open=False,
    market_at=T0 - timedelta(seconds=60),
    applied_at=T0 - timedelta(hours=2),
    rolled_last_hour=0,
    would_roll=1,
    planned_usd_per_hour=1.0,
    budget_usd_per_hour=2.0,
)


def test_a_fresh_affordable_change_in_an_actuating_mode_is_applied() -> None:
    assert check(OK, S).apply


def test_nothing_is_applied_when_nothing_changed() -> None:
    verdict = check(replace(OK, changed=False), S)
    assert not verdict.apply and verdict.reason == "placement unchanged"


def test_shadow_mode_never_applies_and_says_so() -> None:
    verdict = check(replace(OK, mode="shadow"), S)
    assert not verdict.apply and "shadow" in verdict.reason


def test_stale_or_missing_market_data_refuses_a_change() -> None:
    assert "stale" in check(replace(OK, market_at=T0 - timedelta(seconds=901)), S).reason
    assert "never observed" in check(replace(OK, market_at=None), S).reason


def test_open_breaker_refuses() -> None:
    assert "breaker" in check(replace(OK, breaker_open=True), S).reason


def test_min_dwell_holds_a_young_placement_unless_a_warned_pool_is_in_it() -> None:
    young = replace(OK, applied_at=T0 - timedelta(seconds=600))
    assert "dwell" in check(young, S).reason
    assert check(replace(young, urgent=True), S).apply


def test_churn_limit_counts_nodes_already_rolled_this_hour() -> None:
    verdict = check(replace(OK, rolled_last_hour=3, would_roll=2), S)
    assert not verdict.apply and "churn" in verdict.reason
    assert check(replace(OK, rolled_last_hour=3, would_roll=1), S).apply


def test_budget_cap_refuses_a_plan_that_costs_more() -> None:
    verdict = check(replace(OK, planned_usd_per_hour=2.5), S)
    assert not verdict.apply and "budget" in verdict.reason
    assert check(replace(OK, budget_usd_per_hour=None, planned_usd_per_hour=99.0), S).apply


def test_every_refusal_is_listed_not_only_the_first() -> None:
    verdict = check(replace(OK, mode="shadow", breaker_open=True, market_at=None), S)
    assert len(verdict.refusals) == 3


def test_a_daemon_that_lost_its_lease_never_applies() -> None:
    verdict = check(replace(OK, leader=False), S)
    assert not verdict.apply and "lease lost" in verdict.reason
