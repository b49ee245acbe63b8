"""Spot placement scores: the collector on the daemon's real path, against the local EC2 front
(moto does not implement GetSpotPlacementScores), and what a throttled or refused call does.

The request is checked against botocore's own model of GetSpotPlacementScores (the ec2
service-2.json boto3 ships), so the local front is asked exactly what AWS would be asked.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.validate import validate_parameters

from analytics.store import open_history
from reconciler.collect.placement_scores import collect_placement_scores
from reconciler.collect.prices import collect_prices
from reconciler.core.errors import AwsCallError
from reconciler.core.history.ledger import Ledger
from reconciler.core.settings import Cadences, DaemonSettings
from reconciler.daemon.health import WATCHED, Health
from reconciler.embedded.aws_api import LocalEc2Client
from reconciler.embedded.local_aws import free_port
from reconciler.embedded.placement_scores import local_zone_id, score_for
from tests.history_rows import history_rows

from .test_aws_api import T0, A, fleet_and_region

_EC2 = botocore.session.get_session().get_service_model("ec2")
_REQUEST = _EC2.operation_model("GetSpotPlacementScores").input_shape


class CheckedEc2:
    """The local front, with every placement-score request validated as botocore would;
    ``failures`` error codes are raised first, one per call, as AWS's ClientError."""

    def __init__(self, front: LocalEc2Client, failures: tuple[str, ...] = ()) -> None:
        self.front, self.failures, self.calls = front, list(failures), 0

    def get_paginator(self, operation: str) -> Any:
        return self.front.get_paginator(operation)

    def get_spot_placement_scores(self, **params: Any) -> dict[str, Any]:
        validate_parameters(params, _REQUEST)
        self.calls += 1
        if self.failures:
            code = self.failures.pop(0)
            raise ClientError(
                {"Error": {"Code": code, "Message": "Rate exceeded"}}, "GetSpotPlacementScores"
            )
        return self.front.get_spot_placement_scores(**params)


def test_the_score_is_the_share_of_the_target_that_free_capacity_could_take() -> None:
    assert [score_for(free, 3) for free in (0, 1, 2, 3, 7)] == [1, 4, 7, 10, 10]
    assert score_for(0, 1) == 1 and score_for(1, 1) == 10
    with pytest.raises(ValueError, match="at least 1"):
        score_for(1, 0)


def test_local_zone_ids_are_the_regions_code_and_the_letters_place() -> None:
    assert local_zone_id("us-west-2b") == "usw2-az2"
    assert local_zone_id("us-east-1a") == "use1-az1"


def test_the_local_front_scores_each_zone_on_its_free_capacity_in_awss_shape() -> None:
    _fleet, region = fleet_and_region(capacity_a=2, capacity_b=0)
    region.cloud.launch(A, "spot", T0)  # one of the two spot places in zone a is held
    answer = LocalEc2Client(region).get_spot_placement_scores(
        InstanceTypes=["g5.xlarge", "g5.2xlarge"],
        TargetCapacity=3,
        SingleAvailabilityZone=True,
        RegionNames=["us-west-2"],
    )
    assert answer == {
        "SpotPlacementScores": [
            {"Region": "us-west-2", "AvailabilityZoneId": "usw2-az1", "Score": 4},
            {"Region": "us-west-2", "AvailabilityZoneId": "usw2-az2", "Score": 1},
        ]
    }


def _ledger(tmp_path: Any) -> Ledger:
    return Ledger(open_history(tmp_path / "h.duckdb"))


def _scores(ledger: Ledger) -> list[tuple[Any, ...]]:
    return history_rows(
        ledger,
        "SELECT zone, zone_id, instance_type, target_capacity, score, source "
        "FROM placement_scores ORDER BY zone_id, instance_type",
    )


def _failures(ledger: Ledger) -> list[tuple[Any, ...]]:
    return history_rows(
        ledger,
        "SELECT fleet, target, status, detail FROM fleet_actions "
        "WHERE kind = 'signal_failed' ORDER BY ts, detail",
    )


def test_the_collector_keeps_each_zones_score_with_its_name_and_id(tmp_path: Any) -> None:
    fleet, region = fleet_and_region(capacity_a=2, capacity_b=2)
    ledger = _ledger(tmp_path)
    front = LocalEc2Client(region)
    collect_prices(ledger, front, fleet, now=T0, grid_s=60)  # names each zone ID
    ec2 = CheckedEc2(front)
    assert collect_placement_scores(ledger, ec2, fleet, now=T0) == 4
    # max_nodes 3; two free in each zone: 1 + round(9 * 2 / 3) = 7.
    assert _scores(ledger) == [
        ("us-west-2a", "usw2-az1", "g5.2xlarge", 3, 7, "aws:us-west-2"),
        ("us-west-2a", "usw2-az1", "g5.xlarge", 3, 7, "aws:us-west-2"),
        ("us-west-2b", "usw2-az2", "g5.2xlarge", 3, 7, "aws:us-west-2"),
        ("us-west-2b", "usw2-az2", "g5.xlarge", 3, 7, "aws:us-west-2"),
    ]
    # Within the interval the API is not asked again (its 24-hour limit on requests).
    later = T0 + timedelta(minutes=10)
    assert collect_placement_scores(ledger, ec2, fleet, now=later, min_interval_s=1800) == 0
    assert ec2.calls == 1
    assert _failures(ledger) == []


def test_a_throttled_call_is_noted_and_tried_again_after_a_growing_pause(tmp_path: Any) -> None:
    fleet, region = fleet_and_region()
    ledger = _ledger(tmp_path)
    ec2 = CheckedEc2(LocalEc2Client(region), failures=("Throttling", "Throttling"))
    pauses: list[float] = []
    assert collect_placement_scores(ledger, ec2, fleet, now=T0, sleep=pauses.append) == 4
    assert ec2.calls == 3
    assert pauses == [1.0, 2.0]
    notes = _failures(ledger)
    assert [(f, t, s) for f, t, s, _ in notes] == [
        ("gen", "ec2:GetSpotPlacementScores", "failed")
    ] * 2
    assert all(d.startswith("Throttling: Rate exceeded (try ") for *_, d in notes)
    assert {r[1] for r in _scores(ledger)} == {"usw2-az1", "usw2-az2"}
    # No price has named the zones yet: the IDs are kept, the names wait.
    assert {r[0] for r in _scores(ledger)} == {None}


def test_a_refusal_on_every_try_fails_the_job_and_keeps_the_scores_it_had(tmp_path: Any) -> None:
    fleet, region = fleet_and_region()
    ledger = _ledger(tmp_path)
    collect_placement_scores(ledger, CheckedEc2(LocalEc2Client(region)), fleet, now=T0)
    had = _scores(ledger)
    ec2 = CheckedEc2(LocalEc2Client(region), failures=("UnauthorizedOperation",) * 3)
    later = T0 + timedelta(hours=1)
    with pytest.raises(AwsCallError, match="UnauthorizedOperation on all 3 tries"):
        collect_placement_scores(ledger, ec2, fleet, now=later, sleep=lambda _: None)
    assert ec2.calls == 3
    assert len(_failures(ledger)) == 3
    assert "the scores stay as they were" in _failures(ledger)[-1][3]
    assert _scores(ledger) == had


def test_an_error_that_retrying_cannot_mend_fails_at_once(tmp_path: Any) -> None:
    fleet, region = fleet_and_region()
    ledger = _ledger(tmp_path)
    ec2 = CheckedEc2(LocalEc2Client(region), failures=("InvalidParameterValue",))
    with pytest.raises(AwsCallError, match="InvalidParameterValue .*not worth another try"):
        collect_placement_scores(ledger, ec2, fleet, now=T0, sleep=lambda _: None)
    assert ec2.calls == 1
    # Noted like any failed try, so the history says why the scores stopped.
    [(_, _, _, detail)] = _failures(ledger)
    assert detail.startswith("InvalidParameterValue: ")
    assert detail.endswith("(try 1 of 3; the scores stay as they were)")


def test_an_endpoint_that_does_not_answer_is_tried_again_and_noted(tmp_path: Any) -> None:
    fleet, _region = fleet_and_region()
    ledger = _ledger(tmp_path)
    nowhere = boto3.client(
        "ec2",
        region_name="us-west-2",
        endpoint_url=f"http://127.0.0.1:{free_port()}",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"mode": "standard", "max_attempts": 1}, connect_timeout=1),
    )
    pauses: list[float] = []
    with pytest.raises(AwsCallError, match="EndpointConnectionError on all 2 tries"):
        collect_placement_scores(ledger, nowhere, fleet, now=T0, tries=2, sleep=pauses.append)
    assert pauses == [1.0]
    assert [d.split(":")[0] for *_, d in _failures(ledger)] == ["EndpointConnectionError"] * 2


def test_the_job_is_watched_on_its_five_minute_cadence() -> None:
    # AWS limits new configurations per 24 h, not repeats of one: a fleet asks every 5 min.
    assert "placement_scores" in WATCHED
    assert Cadences().placement_scores_s == 300.0


def test_a_failing_scores_job_shows_stale_with_its_error_and_the_others_stay_fresh() -> None:
    clock = [0.0]
    settings = DaemonSettings(cadences=Cadences(placement_scores_s=10.0, prices_s=10.0))
    limits = {
        n: settings.readiness.stale_after_s(getattr(settings.cadences, f"{n}_s")) for n in WATCHED
    }
    health = Health(limits=limits, leader=lambda: True, monotonic=lambda: clock[0])
    health.expect("placement_scores")
    health.expect("prices")
    clock[0] = limits["placement_scores"] + 1
    health.record("prices", None)
    health.record("placement_scores", "ec2:GetSpotPlacementScores: Throttling on all 3 tries")
    readiness = health.readiness(scheduler_running=True)
    assert readiness.reason == "signal_stale"
    assert "placement_scores: no success yet" in readiness.detail
    assert "Throttling on all 3 tries" in readiness.detail
    assert "prices" not in readiness.detail
