from __future__ import annotations

import logging
from pathlib import Path

import pytest

from reconciler.daemon.decide_adapter import DecideError, Planned, load_model, to_stack_placement
from reconciler.daemon.errors import DaemonError
from reconciler.planner.types import Placement as PlannerPlacement
from reconciler.planner.types import PlacementPool, Plan

from .helpers import FLEET


def test_a_model_not_trained_yet_leaves_the_baseline_deciding(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        assert load_model(tmp_path / "model") is None
    assert "baseline decides until one is trained" in caplog.text
    assert load_model(None) is None


def test_a_corrupt_model_is_a_daemon_error_naming_the_path(tmp_path: Path) -> None:
    (tmp_path / "model.json").write_text("{not json")
    with pytest.raises(DecideError, match=str(tmp_path)) as caught:
        load_model(tmp_path)
    assert isinstance(caught.value, DaemonError)  # the CLI reports it in one line, exit 2


def test_the_stack_placement_counts_nodes_per_pool_and_never_exceeds_max_nodes() -> None:
    """The planner may plan spares past maxNodes; the stack refuses that total, so the
    lowest-priority pools give theirs up first (found by the e2e test: 7 planned, max 6)."""
    fleet = FLEET.model_copy(update={"max_nodes": 6})
    placement = PlannerPlacement(
        fleet="gen",
        pools=(
            PlacementPool("us-east-1/us-east-1a/g5.xlarge", 0, 4),
            PlacementPool("us-east-1/us-east-1b/g5.xlarge", 1, 2),
            PlacementPool("us-east-1/us-east-1b/g5.2xlarge", 2, 1),
            PlacementPool("us-east-1/us-east-1c/g5.xlarge", 3, 1),  # no subnet there: skipped
        ),
        on_demand_base=1,
        desired_nodes=8,
        spare=1,
        reason="r",
    )
    planned = Planned(Plan("d-1", placement, (), (), "s"), (), {}, {})
    stack = to_stack_placement(planned, fleet)
    assert stack == {
        "pools": [
            {"instanceType": "g5.xlarge", "subnetId": "subnet-0aaa1111", "nodes": 4},
            {"instanceType": "g5.xlarge", "subnetId": "subnet-0bbb2222", "nodes": 1},
            {"instanceType": "g5.2xlarge", "subnetId": "subnet-0bbb2222", "nodes": 0},
        ],
        "onDemand": 1,
        "decisionId": "d-1",
        "reason": "r",
    }
