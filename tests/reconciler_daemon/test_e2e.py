"""End to end against moto: EventBridge → SQS → daemon → history → the warned node drained and
replaced elsewhere, in shadow and acting, the stack written by the Pulumi driver, across a
restart.

The interruption rules are the stack's own (``stacks.layout``), created in moto's
EventBridge with the interruption queue as target, so the warning travels the path it
travels in AWS. The stack behind the Pulumi driver is ``FakeStack`` (see
test_pulumi_driver.py: the Pulumi CLI cannot run here).
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest

from analytics.store import open_history
from reconciler.actuate.base import StackActuator
from reconciler.actuate.pulumi_driver import PLACEMENTS_KEY, PulumiActuator
from reconciler.actuate.shadow import ShadowActuator
from reconciler.core.history.ledger import Ledger
from reconciler.core.settings import Cadences, DaemonSettings, Mode
from reconciler.daemon.daemon import Daemon
from stacks.layout import fleet_layout
from stacks.naming import AwsAccount
from stacks.spec import parse_fleets
from tests.history_rows import history_rows

from .conftest import REGION, AwsFleet, make_aws_fleet, record_room
from .test_pulumi_driver import FakeStack


def now() -> datetime:
    return datetime.now(UTC)


def stack_for(f: AwsFleet) -> FakeStack:
    stack = FakeStack()
    declared = [
        {
            "name": f.fleet.name,
            "instanceTypes": list(f.fleet.instance_types),
            "subnetIds": list(f.fleet.subnets.values()),
            "amiId": "ami-12c6146b",
            "minNodes": 0,
            "maxNodes": f.fleet.max_nodes,
            "model": "sd-turbo",
        }
    ]
    stack.config["spotfleet:fleets"].value = json.dumps(declared)
    stack.config[PLACEMENTS_KEY].value = "{}"
    return stack


def route_interruptions(f: AwsFleet) -> None:
    """The stack's EventBridge rules for this fleet, targeting its interruption queue."""
    spec = parse_fleets(
        json.loads(
            json.dumps(
                [
                    {
                        "name": f.fleet.name,
                        "instanceTypes": list(f.fleet.instance_types),
                        "subnetIds": list(f.fleet.subnets.values()),
                        "amiId": "ami-12c6146b",
                        "minNodes": 0,
                        "maxNodes": f.fleet.max_nodes,
                        "model": "sd-turbo",
                    }
                ]
            )
        )
    )[0]
    layout = fleet_layout(spec, prefix="spotfleet", account=AwsAccount("123456789012", REGION))
    url = f.fleet.interruption_queue_url
    assert url is not None
    arn = f.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    events = boto3.client("events", region_name=REGION)
    for rule in layout.interruption_rules:
        events.put_rule(Name=rule.name, EventPattern=rule.event_pattern_json)
        events.put_targets(Rule=rule.name, Targets=[{"Id": "queue", "Arn": arn}])


def emit_warning(instance_id: str) -> None:
    # AWS emits this itself; moto lets a test put it with source aws.ec2.
    boto3.client("events", region_name=REGION).put_events(
        Entries=[
            {
                "Source": "aws.ec2",
                "DetailType": "EC2 Spot Instance Interruption Warning",
                "Detail": json.dumps({"instance-id": instance_id, "instance-action": "terminate"}),
                "Resources": [f"arn:aws:ec2:{REGION}:123456789012:instance/{instance_id}"],
            }
        ]
    )


def make_daemon(path: Path, f: AwsFleet, stack: FakeStack, **kw: Any) -> tuple[Daemon, Any]:
    history = open_history(path)
    settings = DaemonSettings(fleets=(f.fleet,), history_path=path, **kw)
    actuators: dict[Mode, StackActuator] = {
        "shadow": ShadowActuator(),
        "pulumi": PulumiActuator(select=lambda: stack, retries=1, backoff_s=0.0),
    }
    return Daemon(settings=settings, ledger=Ledger(history), actuators=actuators), history


@pytest.fixture
def fleet(aws: str) -> AwsFleet:
    # One zone: moto prices every pool alike, so the group's own pool ranks first until warned.
    f = make_aws_fleet(desired=2, zones=("us-east-1a",))
    route_interruptions(f)
    return f


def test_warning_to_replacement_in_shadow_then_pulumi_across_a_restart(
    fleet: AwsFleet, tmp_path: Path
) -> None:
    path, stack = tmp_path / "history.duckdb", stack_for(fleet)
    daemon, history = make_daemon(path, fleet, stack)
    daemon.observe_fleet()
    daemon.collect_prices()
    record_room(daemon.ledger, fleet.fleet, at=datetime.now(UTC))  # what the scores say
    before = fleet.desired_by_pool()

    # shadow: decided and recorded, the groups and the stack untouched
    daemon.reconcile()
    shadow = daemon.reconciler.last_decision["gen"]
    assert not shadow.applied and "shadow" in shadow.reason and shadow.placement is not None
    daemon.sync_stack()
    assert fleet.desired_by_pool() == before and stack.ups == 0 and stack.set_keys == []

    # an operator switches to pulumi: the groups hold the plan, the stack gets it by `up`
    daemon.set_mode("pulumi", by="test")
    daemon.reconcile()
    first = daemon.reconciler.last_decision["gen"]
    assert first.placement is not None
    held = {p["instanceType"]: p["nodes"] for p in first.placement["pools"]}
    assert sum(held.values()) == fleet.desired() - fleet.desired_by_pool()["on-demand"]
    daemon.sync_stack()
    assert stack.ups == 1
    written = json.loads(stack.config[PLACEMENTS_KEY].value)["gen"]
    assert written == daemon.reconciler.applied["gen"]["placement"]

    # the warning: EventBridge → SQS → daemon → a reconcile of this fleet, at once
    daemon.observe_fleet()
    victim = fleet.instances()[0]["InstanceId"]
    victim_pool = history_rows(
        daemon.ledger, "SELECT pool FROM nodes WHERE instance_id = ?", [victim]
    )[0][0]
    held_there = fleet.desired_by_pool()[victim_pool]
    emit_warning(victim)
    daemon.consume_interruptions()
    events = history_rows(daemon.ledger, "SELECT kind, instance_id, pool FROM interruption_events")
    assert events == [("spot_interruption_warning", victim, victim_pool)]
    moved = daemon.reconciler.last_decision["gen"]
    assert moved.reason.startswith(f"interruption warning for {victim}")
    assert moved.applied, moved.reason
    assert "predicted loss 0.95" in moved.reasons[victim_pool]
    assert victim not in {i["InstanceId"] for i in fleet.instances()}  # drained by its group
    # Its group was lowered with it, so nothing relaunches into the pool being reclaimed.
    assert fleet.desired_by_pool()[victim_pool] == held_there - 1
    daemon.sync_stack()
    assert stack.ups == 2
    history.close()

    # restart: what was applied is read back from the history; nothing is done twice
    again, history = make_daemon(path, fleet, stack, mode="pulumi")
    assert again.reconciler.applied["gen"]["placement"] == moved.placement
    again.observe_fleet()
    again.collect_prices()
    again.reconcile()
    assert not again.reconciler.last_decision["gen"].changed
    again.sync_stack()
    assert stack.ups == 2
    history.close()


@pytest.mark.slow
def test_the_schedule_carries_a_warning_through_by_itself(fleet: AwsFleet, tmp_path: Path) -> None:
    stack = stack_for(fleet)
    fast = Cadences(
        prices_s=0.5,
        interruptions_s=0.2,
        job_events_s=0.5,
        fleet_s=0.3,
        reconcile_s=0.5,
        stack_sync_s=3600,
        retrain_s=3600,
        export_s=3600,
    )
    daemon, history = make_daemon(
        tmp_path / "h.duckdb", fleet, stack, cadences=fast, export_dir=tmp_path / "export"
    )
    before = fleet.desired()
    daemon.start()
    try:
        deadline = time.monotonic() + 30
        while "gen" not in daemon.reconciler.last_decision:
            assert time.monotonic() < deadline, daemon.schedule.status()
            time.sleep(0.1)
        victim = fleet.instances()[0]["InstanceId"]
        emit_warning(victim)
        trigger = f"interruption warning for {victim}"
        while not history_rows(
            daemon.ledger, "SELECT 1 FROM decisions WHERE starts_with(reason, ?)", [trigger]
        ):
            assert time.monotonic() < deadline, daemon.schedule.status()
            time.sleep(0.1)
    finally:
        daemon.stop()
        history.close()
    ((applied, reason),) = [
        tuple(r)
        for r in history_rows(
            Ledger(open_history(tmp_path / "h.duckdb")),
            "SELECT applied, reason FROM decisions WHERE starts_with(reason, ?)",
            [trigger],
        )
    ]
    assert not applied and "shadow mode" in reason  # shadow by default
    assert fleet.desired() == before
    jobs = daemon.schedule.status()
    assert all(
        jobs[j]["runs"] >= 1 and jobs[j]["failures"] == 0
        for j in ("prices", "interruptions", "job_events", "fleet", "reconcile")
    ), jobs


def test_a_warning_for_a_node_launched_since_the_last_look_is_still_ours(
    fleet: AwsFleet, tmp_path: Path
) -> None:
    daemon, history = make_daemon(tmp_path / "h.duckdb", fleet, stack_for(fleet))
    try:
        victim = fleet.instances()[0]["InstanceId"]  # never observed by the daemon
        emit_warning(victim)
        emit_warning("i-0000someoneelse")  # the queue is account-wide
        daemon.consume_interruptions()
        rows = history_rows(daemon.ledger, "SELECT instance_id, pool FROM interruption_events")
        assert rows == [(victim, "us-east-1/us-east-1a/g5.xlarge")]
    finally:
        history.close()
