"""The interruption queue against moto's server, with AWS's own payloads for every kind
(tests/fixtures/README.md): each is recorded; the ones about the fleet's nodes react as a
spot warning does, unless stale."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from reconciler.collect.fleet import observe_fleet
from reconciler.collect.interruptions import consume_interruptions
from reconciler.core.history.ledger import Ledger
from tests.fixtures import payload
from tests.history_rows import history_rows

from .conftest import T0, make_aws_fleet


def about(name: str, instance_id: str, at: datetime, **detail: Any) -> str:
    """A fixture re-addressed to ``instance_id`` and re-dated to ``at``."""
    envelope = json.loads(payload(f"events/{name}.json"))
    envelope["time"] = at.strftime("%Y-%m-%dT%H:%M:%SZ")
    envelope["id"] = f"{name}-{at:%H%M%S}"
    if "affectedEntities" in envelope["detail"]:
        envelope["detail"]["affectedEntities"] = [{"entityValue": instance_id}]
        envelope["detail"]["startTime"] = (at + timedelta(days=2)).strftime(
            "%a, %d %b %Y %H:%M:%S GMT"
        )
    else:
        envelope["detail"]["instance-id"] = instance_id
    if "instance-termination-time" in envelope["detail"]:
        envelope["detail"]["instance-termination-time"] = (at + timedelta(minutes=2)).strftime(
            "%Y-%m-%dT%H:%M:%SZ"
        )
    envelope["detail"].update(detail)
    return json.dumps(envelope)


def test_every_kind_about_our_node_is_recorded_and_fresh_ones_replace_and_drain(
    aws: str, ledger: Ledger
) -> None:
    f = make_aws_fleet(desired=1)
    observe_fleet(ledger, f.autoscaling, f.ec2, f.fleet, now=T0)
    ours = f.instances()[0]["InstanceId"]
    url = f.fleet.interruption_queue_url
    assert url is not None
    fresh, stale = T0 - timedelta(seconds=10), T0 - timedelta(hours=1)
    bodies = [
        about("capacity-reservation-interruption-warning", ours, fresh),
        about("health-scheduled-change", ours, fresh),
        about("state-change-pending", ours, fresh, state="stopping"),
        about("spot-interruption-warning", ours, stale),
        about("capacity-reservation-interruption-warning", ours, stale),
        json.dumps(
            {**json.loads(payload("events/sns-wrapped-spot-interruption-warning.json")),
             "Message": about("spot-interruption-warning", ours, fresh)}
        ),
    ]  # fmt: skip
    for body in bodies:
        f.sqs.send_message(QueueUrl=url, MessageBody=body)
    got = consume_interruptions(
        ledger, f.sqs, url, own_instances=lambda named: named & {ours}, now=T0
    )
    assert (got.received, got.foreign, got.unparseable) == (6, 0, 0)
    recorded = history_rows(
        ledger,
        "SELECT kind, instance_id, deadline FROM interruption_events ORDER BY kind, deadline",
    )
    at = fresh.replace(tzinfo=None)
    old = stale.replace(tzinfo=None)
    assert recorded == [
        ("capacity_reservation_interruption_warning", ours, old + timedelta(minutes=2)),
        ("capacity_reservation_interruption_warning", ours, at + timedelta(minutes=2)),
        ("instance_state_change", ours, at),
        ("scheduled_change", ours, at + timedelta(days=2)),
        ("spot_interruption_warning", ours, old + timedelta(minutes=2)),
        ("spot_interruption_warning", ours, at + timedelta(minutes=2)),
    ]
    reacted = sorted((r.why, r.replace_now, r.drain, r.instance_id) for r in got.reactions)
    assert reacted == [
        ("capacity reservation interruption warning (terminate)", True, True, ours),
        ("instance state change (stopping)", True, True, ours),
        ("scheduled change (AWS_EC2_DEDICATED_HOST_NETWORK_MAINTENANCE_SCHEDULED)", True, True, ours),
        ("spot interruption warning (terminate)", True, True, ours),
    ]  # fmt: skip
    left = f.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert left["ApproximateNumberOfMessages"] == "0"
