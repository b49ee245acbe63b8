"""The command line end to end on a small slice of the real traces."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from reconciler.cli import app
from reconciler.replay.backtest import POLICY_NAMES
from tests.reconciler.helpers import shared_data
from tests.reconciler.test_replay_engine import REPLAY_KEYS

DATA = shared_data()
REAL = DATA / "spot-traces" / "availability" / "1-node" / "aws-02-15-2023"

pytestmark = pytest.mark.skipif(not REAL.exists(), reason="the shared data folder is not here")


@pytest.fixture(scope="module")
def slice_folder(tmp_path_factory):
    """Four pools, the first six days."""
    folder = tmp_path_factory.mktemp("cli") / "aws-02-15-2023"
    folder.mkdir()
    for stem in (
        "us-east-2a_v100_1",
        "us-east-2b_v100_1",
        "us-west-2a_v100_1",
        "us-west-2b_v100_1",
    ):
        raw = json.loads((REAL / f"{stem}.json").read_text())
        raw["data"] = raw["data"][: 6 * 443]
        (folder / f"{stem}.json").write_text(json.dumps(raw))
    return folder


def test_backtest_writes_replays_json_and_a_plot(slice_folder, tmp_path):
    out = tmp_path / "bt.json"
    png = tmp_path / "bt.png"
    result = CliRunner().invoke(
        app,
        [
            "backtest",
            "--traces", str(slice_folder),
            "--prices", str(DATA / "replay-prices.json"),
            "--k", "2",
            "--start-day", "4",
            "--quiet",
            "--json", str(out),
            "--plot", str(png),
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = json.loads(out.read_text())
    assert [r["policy"] for r in rows] == list(POLICY_NAMES)
    assert all(list(r) == REPLAY_KEYS for r in rows)
    assert rows[0]["cost_ratio"] == pytest.approx(1.0)
    assert png.stat().st_size > 10_000
    assert "planner_no_model" in result.output


def test_train_writes_the_artifact(slice_folder, tmp_path):
    result = CliRunner().invoke(
        app,
        [
            "train",
            "--traces", str(slice_folder),
            "--prices", str(DATA / "replay-prices.json"),
            "--trees", "20",
            "--out", str(tmp_path / "model"),
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    meta = json.loads((tmp_path / "model" / "model.json").read_text())
    assert set(meta["holdout"]) == {
        "model",
        "lightgbm_alone",
        "baseline_1_minus_avail_24h",
        "baseline_ewma_transitions",
    }
    assert (tmp_path / "model" / "model.txt").exists()
    # the prior: the traces through the production-signal mapping, not their capacity
    assert meta["features"][-1] == "refusals_24h" and meta["trained_on"].startswith("prior")


def test_bad_folder_is_an_error_that_says_what_to_do(tmp_path):
    result = CliRunner().invoke(app, ["backtest", "--traces", str(tmp_path), "--quiet"])
    assert result.exit_code == 2
    assert "point --traces at a collection folder" in result.output


def test_plan_shows_every_pools_prediction_and_reason(slice_folder):
    result = CliRunner().invoke(
        app,
        [
            "plan",
            "--traces", str(slice_folder),
            "--prices", str(DATA / "replay-prices.json"),
            "--day", "4",
            "--k", "2",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "us-west-2/us-west-2b/p3.2xlarge" in result.output
    assert "LaunchSpot" in result.output or "rejected by" in result.output


def _plan(folder, *extra):
    return CliRunner().invoke(
        app,
        ["plan", "--traces", str(folder), "--prices", str(DATA / "replay-prices.json"),
         "--day", "4", "--k", "2", *extra],
    )  # fmt: skip


def _bases(output: str) -> set[str]:
    """The basis column of the predictions table (a wrapped row's second line has none)."""
    rows = [line.split("│") for line in output.splitlines() if line.count("│") >= 4]
    return {cells[3].strip() for cells in rows if len(cells) > 4 and cells[3].strip()}


def test_plan_decides_on_the_production_signals_as_the_daemon_does(slice_folder):
    result = _plan(slice_folder)
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert "on the production signals (placement scores every 300 s for 2 nodes" in said
    assert "with a prior fitted on ticks 0-1771" in said  # day 4 at 195 s a tick


def test_plan_with_a_model_decides_with_the_registrys_blend(slice_folder, tmp_path):
    model = tmp_path / "model"
    trained = CliRunner().invoke(
        app,
        ["train", "--traces", str(slice_folder), "--prices", str(DATA / "replay-prices.json"),
         "--trees", "20", "--out", str(model)],
    )  # fmt: skip
    assert trained.exit_code == 0, trained.output
    result = _plan(slice_folder, "--model", str(model))
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert f"with the prior at {model} (live: initial)" in said
    assert "model" in _bases(result.output)
    # A pointer naming the baseline: the baseline decides, as in the daemon.
    (model / "live.json").write_text(
        json.dumps({"model_id": None, "promoted_at": None, "reason": "rolled back"})
    )
    result = _plan(slice_folder, "--model", str(model))
    assert result.exit_code == 0, result.output
    assert "the 24-hour availability baseline" in " ".join(result.output.split())
    assert _bases(result.output) <= {"baseline", "advisor_prior"}
    assert "baseline" in _bases(result.output)
