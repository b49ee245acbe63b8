from __future__ import annotations

import logging
from pathlib import Path

import pytest

from analytics.pools import Pool
from reconciler.control import GroupTargets, to_stack_placement
from reconciler.core.errors import DaemonError, DecideError
from reconciler.daemon.training import load_model
from reconciler.decide.planner.types import Placement as PlannerPlacement
from reconciler.decide.planner.types import Plan

from .helpers import FLEET


def test_a_model_not_trained_yet_leaves_the_baseline_deciding(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        assert load_model(tmp_path / "model") is None
    assert "baseline decides until a retrain promotes one" in caplog.text
    assert load_model(None) is None


def test_a_corrupt_model_is_a_daemon_error_naming_the_path(tmp_path: Path) -> None:
    (tmp_path / "model.json").write_text("{not json")
    with pytest.raises(DecideError, match=str(tmp_path)) as caught:
        load_model(tmp_path)
    assert isinstance(caught.value, DaemonError)  # the CLI reports it in one line, exit 2


def test_the_stack_placement_is_what_the_groups_hold_per_pool() -> None:
    """Each pool's count (zone -> the fleet's subnet), pools at 0 and pools the fleet does
    not declare left out, the on-demand group's count."""
    placement = PlannerPlacement(
        fleet="gen", pools=(), on_demand_base=1, desired_nodes=6, spare=1, reason="r"
    )
    targets = GroupTargets(
        spot={
            Pool.parse("us-east-1/us-east-1a/g5.xlarge"): 4,
            Pool.parse("us-east-1/us-east-1b/g5.xlarge"): 1,
            Pool.parse("us-east-1/us-east-1b/g5.2xlarge"): 0,
            Pool.parse("us-east-1/us-east-1c/g5.xlarge"): 1,  # no subnet there: not ours
        },
        on_demand=1,
    )
    stack = to_stack_placement(targets, FLEET, "d-1", Plan("p-1", placement, (), (), "s"))
    assert stack == {
        "pools": [
            {"instanceType": "g5.xlarge", "subnetId": "subnet-0aaa1111", "nodes": 4},
            {"instanceType": "g5.xlarge", "subnetId": "subnet-0bbb2222", "nodes": 1},
        ],
        "onDemand": 1,
        "decisionId": "d-1",
        "reason": "r",
    }
