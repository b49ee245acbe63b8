"""One reconcile, the fleet's one controller: the planner for real over a seeded history, the
guards on the whole plan, the fleet's per-pool groups sized through the Auto Scaling API (the
embedded default's local groups, AWS's semantics), refused launches re-placed, the records."""

from __future__ import annotations

import contextlib
import json
import threading
from datetime import timedelta
from pathlib import Path

from analytics.store import open_history
from reconciler.core.history.ledger import Ledger
from reconciler.core.history.recovery import fail_interrupted_stack_updates
from tests.history_rows import history_rows

from .conftest import T0, Clock, seed_market
from .helpers import (
    CHEAP,
    FLEET,
    ZONE_B,
    LocalGroups,
    RecordingActuator,
    make_reconciler,
    warn,
)


def actions(ledger: Ledger, kind: str) -> list[tuple[str, str, str]]:
    return [
        (str(s), str(t), str(d))
        for s, t, d in history_rows(
            ledger,
            "SELECT status, target, detail FROM fleet_actions WHERE kind = ? "
            "ORDER BY ts, action_id",
            [kind],
        )
    ]


def serving(groups: LocalGroups, ledger: Ledger, pool: str = CHEAP, n: int = 2) -> list[str]:
    """``n`` ready nodes in ``pool``, launched three hours ago and observed."""
    groups.now = T0 - timedelta(hours=3)
    ids = groups.hold(pool, n)
    groups.now = T0
    groups.observe(ledger, T0)
    return ids


def test_shadow_decides_and_records_with_reasons_but_changes_nothing(ledger: Ledger) -> None:
    clock = Clock()
    seed_market(ledger, FLEET, now=clock(), prices={CHEAP: 0.30})
    groups = LocalGroups()
    d = make_reconciler(ledger, clock, mode="shadow", groups=groups).reconcile(FLEET)
    assert not d.applied and "shadow mode" in d.reason
    assert groups.counts() == {}  # no group touched
    assert d.placement is not None and sum(p["nodes"] for p in d.placement["pools"]) == 2
    launches = actions(ledger, "launch")
    assert len(launches) == 2 and all(s == "skipped" for s, _, _ in launches)
    row = history_rows(
        ledger, "SELECT reasons FROM decisions WHERE decision_id = ?", [d.decision_id]
    )
    assert CHEAP in json.loads(row[0][0])
    assert ledger.get_state("applied:gen") is None
    assert len(history_rows(ledger, "SELECT * FROM predictions")) == len(FLEET.pools())


def test_an_acting_mode_sizes_the_groups_to_the_plan_and_then_holds_still(
    ledger: Ledger,
) -> None:
    clock = Clock()
    seed_market(ledger, FLEET, now=clock(), prices={CHEAP: 0.30})
    groups = LocalGroups()
    reconciler = make_reconciler(ledger, clock, groups=groups, k=2)
    d = reconciler.reconcile(FLEET)
    assert d.applied and d.changed and d.desired_nodes == 2 and d.placement is not None
    assert sum(groups.counts().values()) == 2 and "on-demand" not in groups.counts()
    # The decision's placement is what the groups hold, in the stack's terms.
    held = {(p["instanceType"], p["subnetId"]): p["nodes"] for p in d.placement["pools"]}
    assert sum(held.values()) == 2 and d.placement["onDemand"] == 0
    assert ledger.get_state("applied:gen")["placement"] == d.placement
    clock.advance(60)
    groups.observe(ledger, clock())
    again = reconciler.reconcile(FLEET)
    assert not again.changed and sum(groups.counts().values()) == 2


def test_a_warned_nodes_replacement_launches_in_another_pool_within_one_reconcile(
    ledger: Ledger,
) -> None:
    clock = Clock()
    seed_market(ledger, FLEET, now=clock(), prices={CHEAP: 0.30})
    groups = LocalGroups()
    victim, _other = serving(groups, ledger)
    reconciler = make_reconciler(ledger, clock, groups=groups, min_dwell_s=3600)
    ledger.set_state("last_move:gen", clock().timestamp() - 10, clock())  # the dwell is on
    warn(ledger, victim)
    d = reconciler.reconcile(FLEET, trigger=f"interruption warning for {victim}")
    assert d.applied, d.reason
    counts = groups.counts()
    assert counts[CHEAP] == 1  # the warned node is drained, its group lowered
    assert not groups.cloud.instances[victim].running
    assert "predicted loss 0.95" in d.reasons[CHEAP] and "warning" in d.reasons[CHEAP]
    launches = actions(ledger, "launch")
    # Its replacement (and the spare a loss buys) went elsewhere at once, whatever the dwell;
    # moving the other node out of the marked pool is optimisation: the dwell holds it.
    applied = [(t, dt) for s, t, dt in launches if s == "applied"]
    assert [dt.split(":")[0] for _, dt in applied] == ["fill", "spare"]
    assert all(t != CHEAP for t, _ in applied) and sum(counts.values()) == 3
    [(_, _, detail)] = [a for a in launches if a[0] == "skipped"]
    assert detail.startswith("move") and "min dwell" in detail
    basis = history_rows(
        ledger, "SELECT basis FROM predictions WHERE pool = ? ORDER BY ts DESC", [CHEAP]
    )
    assert basis[0][0] == "marked"


def test_a_refused_launch_is_re_placed_in_the_same_reconcile_and_the_pool_rests(
    ledger: Ledger,
) -> None:
    clock = Clock()
    seed_market(ledger, FLEET, now=clock(), prices={CHEAP: 0.30})
    groups = LocalGroups(capacity={CHEAP: 0})  # the history says CHEAP has room; it has none
    reconciler = make_reconciler(ledger, clock, groups=groups)
    d = reconciler.reconcile(FLEET)
    assert d.applied and CHEAP not in groups.counts() and sum(groups.counts().values()) == 2
    [(status, target, detail)] = actions(ledger, "launch_failed")
    assert (status, target) == ("failed", CHEAP) and "InsufficientInstanceCapacity" in detail
    assert "launch refused" in d.reasons[CHEAP] and "re-placed" in d.reason
    # A minute later the pool still takes nothing: the plan never tries it again meanwhile.
    clock.advance(60)
    groups.observe(ledger, clock())
    reconciler.reconcile(FLEET)
    assert len(actions(ledger, "launch_failed")) == 1


def test_when_no_pool_can_take_a_launch_on_demand_fills_in_the_same_reconcile(
    ledger: Ledger,
) -> None:
    clock = Clock()
    seed_market(ledger, FLEET, now=clock())
    groups = LocalGroups(capacity=dict.fromkeys(FLEET.pools(), 0))
    d = make_reconciler(ledger, clock, groups=groups).reconcile(FLEET)
    assert d.applied and groups.counts() == {"on-demand": 2}
    refused = {t for _, t, _ in actions(ledger, "launch_failed")}
    assert refused <= set(FLEET.pools()) and len(refused) >= 2


def test_stale_market_data_holds_optimisation_but_never_recovery(ledger: Ledger) -> None:
    clock = Clock()
    seed_market(ledger, FLEET, now=clock())
    groups = LocalGroups()
    clock.advance(2 * 3600)
    groups.now = clock()
    d = make_reconciler(ledger, clock, groups=groups, stale_after_s=900).reconcile(FLEET)
    assert d.applied and sum(groups.counts().values()) == 2  # the fleet is filled to K


def test_the_budget_caps_scaling(ledger: Ledger) -> None:
    clock = Clock()
    seed_market(ledger, FLEET, now=clock(), prices=dict.fromkeys(FLEET.pools(), 0.40))
    groups = LocalGroups()
    poor = FLEET.model_copy(update={"budget_usd_per_hour": 1.0})
    d = make_reconciler(ledger, clock, fleet=poor, groups=groups, k=4).reconcile(poor)
    assert sum(groups.counts().values()) == 2  # 2 x $0.40/h fits under $1/h; a third would not
    assert "budget" in d.reason
    held = [dt for s, _, dt in actions(ledger, "launch") if s == "skipped"]
    assert len(held) == 2 and all("budget" in dt for dt in held)


def test_breaker_opens_after_n_failures_survives_a_restart_and_resets(ledger: Ledger) -> None:
    clock = Clock()
    seed_market(ledger, FLEET, now=clock())
    groups = LocalGroups()
    refusing = groups.client.set_desired_capacity

    def throttled(**_kw: object) -> dict[str, object]:
        from botocore.exceptions import ClientError

        raise ClientError({"Error": {"Code": "Throttling", "Message": "Rate exceeded"}}, "Set")

    groups.client.set_desired_capacity = throttled  # type: ignore[method-assign]
    reconciler = make_reconciler(ledger, clock, groups=groups, breaker_failures=2)
    for _ in range(2):
        d = reconciler.reconcile(FLEET)
        assert not d.applied and "acting failed" in d.reason and "Throttling" in d.reason
    assert reconciler.breaker.is_open
    restarted = make_reconciler(ledger, clock, groups=groups, breaker_failures=2)
    assert restarted.breaker.is_open  # the breaker's state is in the history
    # An open breaker holds optimisation back, never recovery: the fleet is still filled.
    groups.client.set_desired_capacity = refusing  # type: ignore[method-assign]
    assert restarted.reconcile(FLEET).applied and sum(groups.counts().values()) == 2
    restarted.breaker.reset(clock())
    assert not restarted.breaker.is_open


def test_a_history_without_market_data_records_that_no_decision_was_made(ledger: Ledger) -> None:
    d = make_reconciler(ledger, Clock()).reconcile(FLEET)
    assert d.placement is None and not d.applied and d.reason.startswith("no decision")
    assert history_rows(ledger, "SELECT count(*) FROM decisions") == [(1,)]


def test_concurrent_reconciles_of_a_fleet_act_once(ledger: Ledger) -> None:
    clock = Clock()
    seed_market(ledger, FLEET, now=clock(), prices={CHEAP: 0.30})
    groups = LocalGroups()
    reconciler = make_reconciler(ledger, clock, groups=groups)

    def reconcile() -> None:
        groups.observe(ledger, clock())
        reconciler.reconcile(FLEET)

    threads = [threading.Thread(target=reconcile) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(groups.counts().values()) == 2


def test_the_stack_gets_the_placement_in_force_once(ledger: Ledger) -> None:
    clock = Clock()
    seed_market(ledger, FLEET, now=clock(), prices={CHEAP: 0.30})
    actuator = RecordingActuator()
    reconciler = make_reconciler(ledger, clock, actuator=actuator)
    d = reconciler.reconcile(FLEET)
    assert "up succeeded" in reconciler.sync_stack(FLEET)
    [(fleet, placement)] = actuator.calls
    assert fleet == "gen" and placement == d.placement
    assert reconciler.sync_stack(FLEET) == "the stack has the placement in force"
    assert len(actuator.calls) == 1


def test_a_crash_mid_stack_update_is_found_at_restart_and_written_again(tmp_path: Path) -> None:
    path = tmp_path / "h.duckdb"
    clock = Clock()
    with open_history(path) as history:
        ledger = Ledger(history)
        seed_market(ledger, FLEET, now=clock())
        actuator = RecordingActuator()
        actuator.fail_with = KeyboardInterrupt()  # the process dies inside `up`
        reconciler = make_reconciler(ledger, clock, actuator=actuator)
        reconciler.reconcile(FLEET)
        ledger.note("stack_update", fleet="gen", now=clock(), status="planned")
        with contextlib.suppress(KeyboardInterrupt):
            reconciler.sync_stack(FLEET)
    with open_history(path) as history:
        ledger = Ledger(history)
        assert fail_interrupted_stack_updates(ledger, clock()) == 1
        [(status, _, detail)] = actions(ledger, "stack_update")
        assert status == "failed" and "interrupted" in detail
        actuator = RecordingActuator()
        assert "up succeeded" in make_reconciler(ledger, clock, actuator=actuator).sync_stack(FLEET)
        assert len(actuator.calls) == 1


def test_a_move_never_leaves_fewer_ready_nodes_than_k_before_its_replacement_is_ready(
    ledger: Ledger,
) -> None:
    clock = Clock()
    seed_market(ledger, FLEET, now=clock(), prices={CHEAP: 0.30})
    groups = LocalGroups()
    serving(groups, ledger)
    # A rebalance recommendation, taken as seriously as a warning: the nodes move, but they
    # are not going, so they serve until their replacements are ready.
    reconciler = make_reconciler(ledger, clock, groups=groups, rebalance_loss=0.95)
    for instance_id in list(groups.region.groups[FLEET.spot_groups[CHEAP]]._members):
        warn(ledger, instance_id, kind="rebalance_recommendation")
    reconciler.reconcile(FLEET)
    assert groups.counts()[CHEAP] == 2 and sum(groups.counts().values()) == 4
    clock.advance(120)  # replacements launched, not ready yet (cold start 300 s)
    groups.observe(ledger, clock())
    reconciler.reconcile(FLEET)
    assert groups.counts()[CHEAP] == 2
    clock.advance(400)  # now they are
    groups.now = clock()
    groups.observe(ledger, clock())
    reconciler.reconcile(FLEET)
    assert CHEAP not in groups.counts() and sum(groups.counts().values()) == 2
    assert ZONE_B in groups.counts() or len(groups.counts()) >= 1


def test_every_way_aws_takes_a_node_replaces_and_drains_it_a_stale_one_does_nothing(
    ledger: Ledger,
) -> None:
    """A scheduled change, a capacity-reservation warning and a state change to stopping
    go the spot warning's way (planned without, drained, replaced elsewhere); an event past its
    own deadline acts on nothing."""
    clock = Clock()
    seed_market(ledger, FLEET, now=clock(), prices={CHEAP: 0.30})
    groups = LocalGroups()
    retiring, reserved, stopping, stale = serving(groups, ledger, n=4)
    reconciler = make_reconciler(ledger, clock, groups=groups, k=4)
    soon = clock() + timedelta(days=2)
    warn(ledger, retiring, kind="scheduled_change", deadline=soon)
    warn(ledger, reserved, kind="capacity_reservation_interruption_warning", deadline=soon)
    warn(ledger, stopping, kind="instance_state_change", detail="stopping")
    warn(ledger, stale, at=clock() - timedelta(minutes=10), deadline=clock() - timedelta(minutes=8))
    reconciler.reconcile(FLEET)
    going = {retiring, reserved, stopping}
    assert all(not groups.cloud.instances[i].running for i in going)
    assert groups.cloud.instances[stale].running
    assert sum(groups.counts().values()) >= 4  # each one replaced


def test_a_reconcile_right_after_one_that_launched_sees_what_the_groups_hold(
    ledger: Ledger,
) -> None:
    """In the demo two interruption warnings 0.2 ticks apart each reconciled: the second read
    the nodes from the history before the fleet observation had recorded the first's launches,
    planned the fleet from one node, and set the groups to that, ending three new nodes."""
    clock = Clock()
    seed_market(ledger, FLEET, now=clock(), prices={CHEAP: 0.30})
    groups = LocalGroups()
    reconciler = make_reconciler(ledger, clock, groups=groups, k=2)
    first = reconciler.reconcile(FLEET)
    assert first.applied and sum(groups.counts().values()) == 2
    launched = {i for i, inst in groups.cloud.instances.items() if inst.running}
    clock.advance(1)  # no fleet observation in between
    again = reconciler.reconcile(FLEET, trigger="interruption warning for i-elsewhere")
    assert "spot 2 held" in again.reason, again.reason
    assert not again.changed and sum(groups.counts().values()) == 2
    assert {i for i, inst in groups.cloud.instances.items() if inst.running} == launched


def test_a_node_the_groups_replaced_before_the_history_saw_it_go_is_not_counted_twice(
    ledger: Ledger,
) -> None:
    """AWS took a node back and its group launched the replacement before the fleet
    observation ran: the history still shows the old node live, the group holds the new one.
    Counting both, the reconcile sized the group to three and launched a node it did not need."""
    clock = Clock()
    seed_market(ledger, FLEET, now=clock(), prices={CHEAP: 0.30})
    groups = LocalGroups()
    taken, kept = serving(groups, ledger, CHEAP, 2)
    group = groups.region.groups[FLEET.spot_groups[CHEAP]]
    groups.client.terminate_instance_in_auto_scaling_group(
        InstanceId=taken, ShouldDecrementDesiredCapacity=False
    )
    group.fill(T0)  # the group replaces it at once
    replacement = {i.instance_id for i in group.members()} - {kept}
    assert len(replacement) == 1 and taken not in replacement
    reconciler = make_reconciler(ledger, clock, groups=groups, k=2)
    decided = reconciler.reconcile(FLEET, trigger="interruption warning")
    assert "spot 2 held" in decided.reason, decided.reason
    assert groups.counts() == {CHEAP: 2}
    assert {i.instance_id for i in group.members()} == {kept, *replacement}
