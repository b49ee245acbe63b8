"""Collectors against moto's server over HTTP."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from analytics.store import first_row
from reconciler.collect.fleet import observe_fleet, read_backlog
from reconciler.collect.interruptions import consume_interruptions
from reconciler.collect.job_events import consume_job_events
from reconciler.collect.prices import collect_prices, record_on_demand
from reconciler.core.aws import client
from reconciler.core.errors import AwsCallError
from reconciler.core.history.ledger import Ledger
from tests.history_rows import history_rows

from .conftest import REGION, T0, make_aws_fleet, rebalance_envelope, warning_envelope


def count(ledger: Ledger, sql: str) -> int:
    row = first_row(ledger.history.con, sql)
    return int(row[0]) if row else 0


def test_prices_are_collected_for_every_pool_and_capacity_observed(
    aws: str, ledger: Ledger
) -> None:
    f = make_aws_fleet()
    inserted = collect_prices(ledger, client("ec2", REGION), f.fleet, now=T0, grid_s=300)
    assert inserted > 0
    pools = {r[0] for r in history_rows(ledger, "SELECT DISTINCT pool FROM spot_prices")}
    assert set(f.fleet.pools()) <= pools
    # the products AWS calls 'Linux/UNIX (Amazon VPC)' are read as Linux
    assert history_rows(ledger, "SELECT DISTINCT product FROM spot_prices") == [("Linux/UNIX",)]
    observed = history_rows(ledger, "SELECT DISTINCT pool, capacity, ts FROM capacity_observations")
    assert {r[0] for r in observed} == set(f.fleet.pools())
    assert ledger.freshest_market(f.fleet.pools(), T0 - timedelta(hours=1)) == T0
    assert ledger.freshest_market(f.fleet.pools(), T0) is None  # nothing after T0
    # a second run finds nothing new: prices are keyed, not appended
    assert collect_prices(ledger, client("ec2", REGION), f.fleet, now=T0, grid_s=300) == 0
    assert record_on_demand(ledger, f.fleet) == 2 and record_on_demand(ledger, f.fleet) == 0


class OddEc2:
    """A paginator whose pages carry one record AWS would never send (a negative price)."""

    def get_paginator(self, name: str) -> OddEc2:
        return self

    def paginate(self, **kwargs: object) -> list[dict[str, object]]:
        good = {
            "AvailabilityZone": "us-east-1a",
            "InstanceType": "g5.xlarge",
            "ProductDescription": "Linux/UNIX",
            "SpotPrice": "0.41",
            "Timestamp": T0,
        }
        bad = {**good, "SpotPrice": "-3", "AvailabilityZone": "us-east-1b"}
        return [{"SpotPriceHistory": [good]}, {"SpotPriceHistory": [bad]}]


def test_a_page_with_an_odd_record_keeps_the_good_ones(aws: str, ledger: Ledger) -> None:
    f = make_aws_fleet()
    assert collect_prices(ledger, OddEc2(), f.fleet, now=T0, grid_s=300) == 1
    assert history_rows(ledger, "SELECT pool, price FROM spot_prices") == [
        ("us-east-1/us-east-1a/g5.xlarge", 0.41)
    ]


def test_a_failing_aws_call_is_translated_with_its_cause(aws: str, ledger: Ledger) -> None:
    sqs = client("sqs", REGION)
    with pytest.raises(AwsCallError) as caught:
        read_backlog(sqs, (f"{aws}/123456789012/no-such-queue",))
    assert caught.value.operation == "sqs:GetQueueAttributes"
    assert caught.value.__cause__ is not None


def test_fleet_observer_records_the_groups_instances_and_their_end(
    aws: str, ledger: Ledger
) -> None:
    f = make_aws_fleet(desired=2)
    view = observe_fleet(ledger, f.autoscaling, f.ec2, f.fleet, now=T0)
    assert view.desired == 2 and view.instances == 2
    nodes = history_rows(ledger, "SELECT instance_id, fleet, pool, state FROM nodes ORDER BY 1")
    assert len(nodes) == 2 and all(n[1] == "gen" for n in nodes)
    assert all(n[2] == "us-east-1/us-east-1a/g5.xlarge" for n in nodes)
    f.autoscaling.set_desired_capacity(
        AutoScalingGroupName=f.fleet.spot_groups["us-east-1/us-east-1a/g5.xlarge"],
        DesiredCapacity=1,
    )
    observe_fleet(ledger, f.autoscaling, f.ec2, f.fleet, now=T0 + timedelta(minutes=1))
    assert count(ledger, "SELECT count(*) FROM nodes WHERE state = 'terminated'") == 1


def test_interruption_queue_keeps_ours_raw_bad_ones_and_reacts_once(
    aws: str, ledger: Ledger
) -> None:
    f = make_aws_fleet(desired=1)
    observe_fleet(ledger, f.autoscaling, f.ec2, f.fleet, now=T0)
    ours = f.instances()[0]["InstanceId"]
    url = f.fleet.interruption_queue_url
    assert url is not None
    for body in (
        warning_envelope(ours, event_id="ev-1"),
        warning_envelope(ours, event_id="ev-1"),  # redelivered: same id
        warning_envelope("i-0someoneelse0000"),  # another team's instance
        rebalance_envelope(ours),
        "{not json",
        json.dumps({"source": "aws.ec2", "detail-type": "Something New", "detail": {}}),
    ):
        f.sqs.send_message(QueueUrl=url, MessageBody=body)
    got = consume_interruptions(
        ledger, f.sqs, url, own_instances=lambda named: named & {ours}, now=T0
    )
    assert got.received == 6 and got.foreign == 1 and got.unparseable == 1
    assert [r.replace_now for r in got.reactions] == [True, False]
    assert {r.pool for r in got.reactions} == {"us-east-1/us-east-1a/g5.xlarge"}
    kinds = history_rows(
        ledger, "SELECT kind, raw LIKE '{not json%' FROM interruption_events ORDER BY 1"
    )
    assert kinds == [
        ("rebalance_recommendation", False),
        ("spot_interruption_warning", False),
        ("unparseable", True),
    ]
    left = f.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert left["ApproximateNumberOfMessages"] == "0"
    assert left["ApproximateNumberOfMessagesNotVisible"] == "0"


def job_event(kind: str, at: str, **extra: object) -> str:
    event = {
        "schema_version": 1,
        "type": kind,
        "job_id": "job-1",
        "message_id": "m-1",
        "at": at,
        "instance_id": "i-1",
        "instance_type": "g5.xlarge",
        "pool": "us-east-1/us-east-1a/g5.xlarge",
        "fleet": "gen",
        **extra,
    }
    return json.dumps({"Type": "Notification", "Message": json.dumps(event)})


def test_job_events_land_in_jobs_even_out_of_order(aws: str, ledger: Ledger) -> None:
    f = make_aws_fleet()
    url = f.fleet.job_events_queue_url
    assert url is not None
    done = job_event(
        "completed",
        "2026-11-22T12:01:00+00:00",
        seconds=42.5,
        finished_at="2026-11-22T12:01:00+00:00",
    )
    started = job_event(
        "started", "2026-11-22T12:00:00+00:00", started_at="2026-11-22T12:00:17+00:00"
    )
    for body in (done, started, "garbage"):
        f.sqs.send_message(QueueUrl=url, MessageBody=body)
    assert consume_job_events(ledger, f.sqs, url) == 2
    row = history_rows(ledger, "SELECT state, seconds, started_at IS NOT NULL, fleet FROM jobs")
    assert row == [("completed", 42.5, True, "gen")]
    assert ledger.seconds_per_job("gen", T0 - timedelta(hours=1)) == 42.5


def test_backlog_counts_waiting_and_in_flight_jobs(aws: str) -> None:
    f = make_aws_fleet()
    (url,) = f.fleet.job_queue_urls
    for i in range(5):
        f.sqs.send_message(QueueUrl=url, MessageBody=f"job {i}")
    f.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=2, VisibilityTimeout=60)
    backlog = read_backlog(f.sqs, f.fleet.job_queue_urls)
    assert (backlog.visible, backlog.in_flight) == (3, 2)
