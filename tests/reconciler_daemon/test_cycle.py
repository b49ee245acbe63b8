"""One reconcile: the planner for real over a seeded history, guards, actuation, records."""

from __future__ import annotations

import contextlib
import json

from analytics.store import open_history
from reconciler.daemon.cycle import recover
from reconciler.daemon.ledger import Ledger

from .conftest import Clock, seed_market
from .helpers import (
    CHEAP,
    FLEET,
    ActuationError,
    RecordingActuator,
    add_nodes,
    make_reconciler,
    warn,
)


def actions(ledger: Ledger, kind: str = "stack_update") -> list[tuple[str, str]]:
    return [
        (str(s), str(d))
        for s, d in ledger.rows(
            "SELECT status, detail FROM fleet_actions WHERE kind = ? ORDER BY ts, action_id", [kind]
        )
    ]


def first_pool(placement: dict[str, object] | None) -> tuple[str, str]:
    assert placement is not None
    pool = placement["pools"][0]  # type: ignore[index]
    return pool["instanceType"], pool["subnetId"]


def test_shadow_decides_and_records_with_reasons_but_changes_nothing(ledger: Ledger) -> None:
    clock = Clock()
    seed_market(ledger, FLEET, now=clock(), prices={CHEAP: 0.30})
    add_nodes(ledger)
    actuator = RecordingActuator()
    d = make_reconciler(ledger, clock, mode="shadow", actuator=actuator).reconcile(FLEET)
    assert d.changed and not d.applied and "shadow mode" in d.reason
    assert first_pool(d.placement) == ("g5.xlarge", "subnet-0aaa1111")  # the cheapest pool
    assert actuator.calls == []
    [(status, detail)] = actions(ledger)
    assert status == "skipped" and "shadow" in detail
    row = ledger.rows(
        "SELECT applied, reasons FROM decisions WHERE decision_id = ?", [d.decision_id]
    )
    assert row[0][0] is False and CHEAP in json.loads(row[0][1])
    assert ledger.get_state("applied:gen") is None
    assert len(ledger.rows("SELECT * FROM predictions")) == len(FLEET.pools())


def test_an_actuating_mode_applies_a_change_once_and_remembers_it(ledger: Ledger) -> None:
    clock = Clock()
    seed_market(ledger, FLEET, now=clock(), prices={CHEAP: 0.30})
    add_nodes(ledger)
    actuator = RecordingActuator()
    reconciler = make_reconciler(ledger, clock, actuator=actuator)
    d = reconciler.reconcile(FLEET)
    assert d.applied and len(actuator.calls) == 1
    assert actuator.calls[0][1]["decisionId"] == d.decision_id
    assert ledger.get_state("applied:gen")["placement"] == d.placement
    clock.advance(60)
    again = reconciler.reconcile(FLEET)
    assert not again.changed and len(actuator.calls) == 1


def test_a_warning_moves_the_placement_away_at_once_despite_the_dwell(ledger: Ledger) -> None:
    clock = Clock()
    seed_market(ledger, FLEET, now=clock(), prices={CHEAP: 0.30})
    add_nodes(ledger)
    actuator = RecordingActuator()
    reconciler = make_reconciler(ledger, clock, actuator=actuator, min_dwell_s=3600)
    assert reconciler.reconcile(FLEET).applied
    clock.advance(60)
    warn(ledger, "i-0")
    d = reconciler.reconcile(FLEET, trigger="interruption warning for i-0")
    assert d.applied, d.reason
    assert first_pool(d.placement) != ("g5.xlarge", "subnet-0aaa1111")
    assert "predicted loss 0.95" in d.reasons[CHEAP] and "warning" in d.reasons[CHEAP]
    launches = ledger.rows("SELECT target FROM fleet_actions WHERE kind = 'launch'")
    assert launches and all(t != CHEAP for (t,) in launches)
    basis = ledger.rows("SELECT basis FROM predictions WHERE pool = ? ORDER BY ts DESC", [CHEAP])
    assert basis[0][0] == "marked"


def test_without_a_warning_the_dwell_holds_a_young_placement(ledger: Ledger) -> None:
    clock = Clock()
    seed_market(ledger, FLEET, now=clock(), prices={CHEAP: 0.30})
    add_nodes(ledger)
    # a rebalance taken as seriously as a warning moves the placement, but it is advice:
    # the dwell still holds
    reconciler = make_reconciler(ledger, clock, min_dwell_s=3600, rebalance_loss=0.95)
    assert reconciler.reconcile(FLEET).applied
    clock.advance(60)
    warn(ledger, "i-0", kind="rebalance_recommendation")
    d = reconciler.reconcile(FLEET)
    assert d.changed and not d.applied and "min dwell" in d.reason


def test_stale_market_data_refuses_a_change(ledger: Ledger) -> None:
    clock = Clock()
    seed_market(ledger, FLEET, now=clock())
    add_nodes(ledger)
    clock.advance(2 * 3600)
    d = make_reconciler(ledger, clock, stale_after_s=900).reconcile(FLEET)
    assert not d.applied and "stale data" in d.reason


def test_budget_cap_refuses_a_plan_over_it(ledger: Ledger) -> None:
    clock = Clock()
    seed_market(ledger, FLEET, now=clock())
    add_nodes(ledger)
    poor = FLEET.model_copy(update={"budget_usd_per_hour": 0.5})
    d = make_reconciler(ledger, clock, fleet=poor).reconcile(poor)
    assert not d.applied and "budget" in d.reason


def test_breaker_opens_after_n_failures_survives_a_restart_and_resets(ledger: Ledger) -> None:
    clock = Clock()
    seed_market(ledger, FLEET, now=clock())
    add_nodes(ledger)
    actuator = RecordingActuator()
    actuator.fail_with = ActuationError("pulumi up failed: AccessDenied")
    reconciler = make_reconciler(ledger, clock, actuator=actuator, breaker_failures=2)
    for _ in range(2):
        d = reconciler.reconcile(FLEET)
        assert not d.applied and "actuation failed" in d.reason
    assert reconciler.breaker.is_open
    third = reconciler.reconcile(FLEET)
    assert "circuit breaker" in third.reason and len(actuator.calls) == 2
    restarted = make_reconciler(ledger, clock, actuator=actuator, breaker_failures=2)
    assert restarted.breaker.is_open  # the breaker's state is in the history
    restarted.breaker.reset(clock())
    actuator.fail_with = None
    assert restarted.reconcile(FLEET).applied
    assert [s for s, _ in actions(ledger)].count("failed") == 2


def test_a_crash_mid_actuation_is_found_at_restart_and_applied_again(tmp_path: object) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "h.duckdb"
    clock = Clock()
    with open_history(path) as history:
        ledger = Ledger(history)
        seed_market(ledger, FLEET, now=clock())
        add_nodes(ledger)
        actuator = RecordingActuator()
        actuator.fail_with = KeyboardInterrupt()  # the process dies inside `up`
        with contextlib.suppress(KeyboardInterrupt):
            make_reconciler(ledger, clock, actuator=actuator).reconcile(FLEET)
    with open_history(path) as history:
        ledger = Ledger(history)
        assert recover(ledger, clock()) == 1
        assert actions(ledger)[0][0] == "failed" and "interrupted" in actions(ledger)[0][1]
        actuator = RecordingActuator()
        d = make_reconciler(ledger, clock, actuator=actuator).reconcile(FLEET)
        assert d.applied and len(actuator.calls) == 1
        # and after one more restart, what was applied is known: nothing to do
        again = make_reconciler(ledger, clock, actuator=actuator).reconcile(FLEET)
        assert not again.changed and len(actuator.calls) == 1


def test_a_history_without_market_data_records_that_no_decision_was_made(ledger: Ledger) -> None:
    d = make_reconciler(ledger, Clock()).reconcile(FLEET)
    assert d.placement is None and not d.applied and d.reason.startswith("no decision")
    assert ledger.rows("SELECT count(*) FROM decisions") == [(1,)]


def test_concurrent_reconciles_of_a_fleet_act_once(ledger: Ledger) -> None:
    import threading

    clock = Clock()
    seed_market(ledger, FLEET, now=clock(), prices={CHEAP: 0.30})
    add_nodes(ledger)
    actuator = RecordingActuator()
    reconciler = make_reconciler(ledger, clock, actuator=actuator)
    threads = [threading.Thread(target=reconciler.reconcile, args=(FLEET,)) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(actuator.calls) == 1
