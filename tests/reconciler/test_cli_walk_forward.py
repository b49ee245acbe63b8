"""``backtest --walk-forward`` end to end on a short span of the public traces."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from reconciler.cli import app
from tests.reconciler.helpers import shared_data
from tests.reconciler.test_replay_engine import REPLAY_KEYS

REAL = shared_data() / "spot-traces" / "availability" / "1-node" / "aws-02-15-2023"

pytestmark = pytest.mark.skipif(not REAL.exists(), reason="the shared data folder is not here")


def test_walk_forward_prints_a_row_per_window_the_pooled_row_and_the_interval(tmp_path):
    out = tmp_path / "wf.json"
    result = CliRunner().invoke(
        app,
        [
            "backtest",
            "--traces",
            str(REAL),
            "--k",
            "2",
            "--start-day",
            "10",
            "--end-day",
            "14",
            "--walk-forward",
            "2",
            "--walk-forward-json",
            str(out),
            "--quiet",
        ],
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert any(line.startswith("│ 1 ") and "10-12" in line for line in lines)
    assert any(line.startswith("│ 2 ") and "12-14" in line for line in lines)
    assert not any(line.startswith("│ 3 ") for line in lines)
    assert any(line.startswith("│ pooled") and "10-14" in line for line in lines)
    assert "95% bootstrap interval over 4 days" in result.output

    doc = json.loads(out.read_text())
    windows = doc["windows"]
    assert [(w["start_day"], w["end_day"]) for w in windows] == [(10, 12), (12, 14)]
    assert windows[0]["end_tick"] == windows[1]["start_tick"]  # consecutive, no gap
    for w in windows:
        # Each window keeps REPLAY.md's list of objects, the model refitted for it.
        assert all(list(r) == REPLAY_KEYS for r in w["results"])
        assert {"planner", "planner_no_model", "karpenter"} <= {r["policy"] for r in w["results"]}
        assert 0.5 < w["model_auc"] <= 1.0
        # ... and scored on the window it did not fit, beside the 24 h baseline.
        assert 0.5 < w["window_auc"] <= 1.0
        assert 0.0 <= w["baseline_window_auc"] <= 1.0
        assert w["left_out_auc"] is None  # not asked for (--auc-ceiling)
    assert 0.5 < doc["pooled_auc"]["window_auc"] <= 1.0
    assert "model AUC on the windows it did not fit: " in result.output
    pooled = {p["policy"]: p for p in doc["pooled"]}
    planner = [r for w in windows for r in w["results"] if r["policy"] == "planner"]
    assert pooled["planner"]["ticks"] == sum(r["ticks"] for r in planner)
    served = sum(round(r["availability"] * r["ticks"]) for r in planner)
    assert pooled["planner"]["availability"] == pytest.approx(served / pooled["planner"]["ticks"])
    assert "margin" in pooled["planner"]
    d = doc["difference"]
    assert (d["days"], d["resamples"], d["seed"]) == (4, 2000, 0)
    assert d["low"] <= d["difference"] <= d["high"]
    assert d["difference"] == pytest.approx(
        pooled["planner"]["availability"] - pooled["planner_no_model"]["availability"]
    )


def test_walk_forward_refuses_a_single_window_output():
    result = CliRunner().invoke(
        app,
        ["backtest", "--traces", str(REAL), "--walk-forward", "2", "--json", "x.json", "--quiet"],
    )
    assert result.exit_code == 2
    assert "drop --json" in result.output


def test_walk_forward_over_an_empty_span_says_so():
    result = CliRunner().invoke(
        app,
        ["backtest", "--traces", str(REAL), "--start-day", "400", "--walk-forward", "2", "--quiet"],
    )
    assert result.exit_code == 2
    assert "is empty" in result.output


def test_auc_ceiling_scores_each_window_by_the_model_fitted_on_the_other_days(tmp_path):
    out = tmp_path / "wf.json"
    args = ["backtest", "--traces", str(REAL), "--k", "2", "--start-day", "10"]
    args += ["--end-day", "12", "--walk-forward", "2", "--auc-ceiling", "--policy", "planner"]
    result = CliRunner().invoke(app, [*args, "--walk-forward-json", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text())
    (window,) = doc["windows"]
    assert 0.5 < window["left_out_auc"] <= 1.0
    assert doc["pooled_auc"]["left_out_auc"] == pytest.approx(window["left_out_auc"])
    said = (
        f"fitted on every other day instead (the later ones included): {window['left_out_auc']:.3f}"
    )
    assert said in " ".join(result.output.split())


def test_auc_ceiling_without_a_walk_forward_says_what_to_add():
    result = CliRunner().invoke(
        app, ["backtest", "--traces", str(REAL), "--auc-ceiling", "--quiet"]
    )
    assert result.exit_code == 2
    assert "add --walk-forward DAYS" in " ".join(result.output.split())
