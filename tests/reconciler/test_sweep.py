"""``--sweep NAME=V1,V2,...``: parsed into planner settings, or refused with one clear line."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from reconciler.cli import app
from reconciler.core.errors import SweepError
from reconciler.decide.planner import PlannerSettings
from reconciler.replay.sweep import parse_sweep
from tests.reconciler.helpers import shared_data, write_traces


def test_a_sweep_is_one_planner_point_per_value_named_after_it():
    sweep = parse_sweep("spare_risk=0.5,1,1.5")
    points = sweep.points(PlannerSettings())
    assert [name for name, _ in points] == [
        "planner[spare_risk=0.5]",
        "planner[spare_risk=1]",
        "planner[spare_risk=1.5]",
    ]
    assert [s.spare_risk for _, s in points] == [0.5, 1.0, 1.5]
    assert all(s.max_loss == PlannerSettings().max_loss for _, s in points)


def test_int_and_bool_settings_take_their_own_kind():
    assert parse_sweep("max_spare=0,1,2").values == (0, 1, 2)
    assert parse_sweep("on_demand_fallback=true,false").values == (True, False)
    names = [n for n, _ in parse_sweep("on_demand_fallback=true,false").points(PlannerSettings())]
    assert names == ["planner[on_demand_fallback=true]", "planner[on_demand_fallback=false]"]


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("spare_rsk=1,2", "not a planner setting; choose from"),
        ("spare_risk", "expected NAME=V1,V2"),
        ("spare_risk=", "expected NAME=V1,V2"),
        ("spare_risk=1,lots", "'lots' is not a float"),
        ("max_spare=1.5", "'1.5' is not an int"),
        ("on_demand_fallback=maybe", "'maybe' is not a bool"),
    ],
)
def test_bad_sweeps_are_refused_saying_what_is_wrong(text: str, says: str):
    with pytest.raises(SweepError, match=says):
        parse_sweep(text)


def test_the_cli_refuses_a_bad_sweep_in_one_line_with_exit_2(tmp_path):
    folder = write_traces(tmp_path / "c", {"us-east-1a_v100_1": [1] * 50})
    result = CliRunner().invoke(
        app, ["backtest", "--traces", str(folder), "--sweep", "nope=1", "--quiet"]
    )
    assert result.exit_code == 2
    assert len(result.output.strip().splitlines()) == 1
    assert "'nope' is not a planner setting" in result.output


def test_the_cli_runs_each_sweep_point_and_writes_their_margins(tmp_path):
    real = shared_data() / "spot-traces" / "availability" / "1-node" / "aws-02-15-2023"
    if not real.exists():
        pytest.skip("the shared data folder is not here")
    folder = tmp_path / "aws-02-15-2023"
    folder.mkdir()
    for stem in ("us-east-2a_v100_1", "us-west-2a_v100_1", "us-west-2b_v100_1"):
        raw = json.loads((real / f"{stem}.json").read_text())
        raw["data"] = raw["data"][: 5 * 443]
        (folder / f"{stem}.json").write_text(json.dumps(raw))
    margins_out = tmp_path / "margins.json"
    result = CliRunner().invoke(
        app,
        ["backtest", "--traces", str(folder), "--k", "2", "--start-day", "4", "--quiet",
         "--policy", "karpenter", "--policy", "spothedge+1", "--policy", "planner_no_model",
         "--sweep", "spare_risk=1,3", "--frontier-json", str(margins_out),
         "--json", str(tmp_path / "bt.json")],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    margins = json.loads(margins_out.read_text())
    assert list(margins) == ["planner_no_model", "planner[spare_risk=1]", "planner[spare_risk=3]"]
    rows = {r["policy"]: r for r in json.loads((tmp_path / "bt.json").read_text())}
    assert set(rows) == {"karpenter", "spothedge+1", *margins}
    assert "margin" in result.output
    assert "planner[spare_risk=3]" in result.output  # the table shows the point by name


def test_frontier_json_without_a_peer_is_refused(tmp_path):
    folder = write_traces(tmp_path / "c", {"us-east-1a_v100_1": [1] * 50})
    result = CliRunner().invoke(
        app,
        ["backtest", "--traces", str(folder), "--policy", "on_demand", "--quiet",
         "--frontier-json", str(tmp_path / "m.json")],
    )  # fmt: skip
    assert result.exit_code == 2
    assert "needs at least one peer" in result.output
