"""Issue 14 item 13: ``plan`` and ``backtest`` as a new user runs them, from any folder."""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from reconciler.cli import app
from stacks.spec import Placement
from tests.reconciler.helpers import shared_data

DATA = shared_data()
REAL = DATA / "spot-traces" / "availability" / "1-node" / "aws-02-15-2023"

pytestmark = pytest.mark.skipif(not REAL.exists(), reason="the shared data folder is not here")


@pytest.fixture(scope="module")
def three_regions(tmp_path_factory):
    """Pools in us-east-1, us-east-2 and us-west-2, the first five days."""
    folder = tmp_path_factory.mktemp("paths") / "aws-02-15-2023"
    folder.mkdir()
    for stem in (
        "us-east-1a_v100_1",
        "us-east-2a_v100_1",
        "us-west-2a_v100_1",
        "us-west-2b_v100_1",
    ):
        raw = json.loads((REAL / f"{stem}.json").read_text())
        raw["data"] = raw["data"][: 5 * 443]
        (folder / f"{stem}.json").write_text(json.dumps(raw))
    return folder


def test_backtest_finds_the_default_prices_from_any_folder(three_regions, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # not the repository: ../shared/data does not exist from here
    result = CliRunner().invoke(
        app,
        ["backtest", "--traces", str(three_regions), "--k", "1", "--start-day", "4.9",
         "--policy", "on_demand", "--quiet"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "on_demand" in result.output


def test_plan_finds_the_default_prices_from_any_folder(three_regions, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(
        app, ["plan", "--traces", str(three_regions), "--day", "4", "--k", "2"]
    )
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("command", ["backtest", "plan", "train"])
def test_a_missing_prices_file_says_no_such_file(three_regions, tmp_path, command):
    missing = tmp_path / "nowhere" / "replay-prices.json"
    args = [command, "--traces", str(three_regions), "--prices", str(missing)]
    args += ["--day", "4"] if command == "plan" else []
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2, result.output
    assert f"no such file: {missing}" in " ".join(result.output.split())


def test_a_missing_traces_folder_says_no_such_folder(tmp_path):
    missing = tmp_path / "no-collection"
    result = CliRunner().invoke(app, ["backtest", "--traces", str(missing), "--quiet"])
    assert result.exit_code == 2, result.output
    assert f"no such folder: {missing}" in " ".join(result.output.split())


def _stack_config(output: str) -> dict[str, Any]:
    """The JSON object the command printed after its 'spotfleet:placements' line."""
    start = output.index("spotfleet:placements")
    text = output[output.index("{", start) :]
    value, _ = json.JSONDecoder().raw_decode(text)
    assert isinstance(value, dict)
    return value


SUBNETS = {
    "us-east-1a": "subnet-0e1a",
    "us-east-2a": "subnet-0e2a",
    "us-west-2a": "subnet-0w2a",
    "us-west-2b": "subnet-0w2b",
}


def test_plan_prints_stack_config_json_one_region_per_fleet(three_regions):
    args = ["plan", "--traces", str(three_regions), "--day", "4", "--k", "3"]
    for zone, subnet in SUBNETS.items():
        args += ["--subnet", f"{zone}={subnet}"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "Placement(" not in result.output  # no Python repr
    placements = _stack_config(result.output)
    region_of = {subnet: zone[:-1] for zone, subnet in SUBNETS.items()}
    assert len(placements) >= 2  # the plan spans regions: one fleet placement per region
    for fleet, raw in placements.items():
        placement = Placement.model_validate(raw)  # what the stack's preview accepts
        regions = {region_of[p.subnet_id] for p in placement.pools}
        assert len(regions) == 1, (fleet, raw)
        assert fleet.endswith(regions.pop()), fleet
        assert all(p.instance_type == "p3.2xlarge" and p.nodes >= 1 for p in placement.pools)
    # On-demand goes where the planner launches it: the first pool's region.
    on_demand = {fleet: raw["onDemand"] for fleet, raw in placements.items()}
    assert all(n == 0 for fleet, n in on_demand.items() if not fleet.endswith("us-east-1"))


def test_plan_without_subnets_names_the_subnet_to_fill_in(three_regions):
    result = CliRunner().invoke(
        app, ["plan", "--traces", str(three_regions), "--day", "4", "--k", "2"]
    )
    assert result.exit_code == 0, result.output
    placements = _stack_config(result.output)
    subnets = [p["subnetId"] for raw in placements.values() for p in raw["pools"]]
    assert subnets and all(s.startswith("<subnet in us-") for s in subnets), subnets
    assert "--subnet ZONE=SUBNET_ID" in " ".join(result.output.split())
