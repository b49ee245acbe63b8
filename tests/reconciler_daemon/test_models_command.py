"""``train --history FILE`` fits from a daemon's history as its retrain does and prints the
held-out metrics and the comparison; ``models`` lists what the registry holds."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from analytics.store import open_history
from reconciler.cli import app

from .aws_history import write_aws_history


def test_train_on_a_history_with_warnings_and_no_capacity_traces_then_list_it(
    tmp_path: Path,
) -> None:
    path = tmp_path / "history.duckdb"
    with open_history(path) as history:
        write_aws_history(history, warnings=60)
    registry = tmp_path / "model"
    runner = CliRunner()
    trained = runner.invoke(
        app, ["train", "--history", str(path), "--out", str(registry), "--evaluation-days", "6"]
    )
    assert trained.exit_code == 0, trained.output
    assert "held-out" in trained.output and "baseline_1_minus_avail_24h" in trained.output
    assert "scored on 2026-10-25" in trained.output  # the last six days, not fitted
    assert "replayed" in trained.output  # and how each served them through the decision path
    (folder,) = [p for p in registry.iterdir() if p.is_dir()]
    assert f"model {folder.name} written" in trained.output

    again = runner.invoke(app, ["train", "--history", str(path), "--out", str(registry)])
    assert again.exit_code == 0, again.output
    listed = runner.invoke(app, ["models", "--path", str(registry), "--json"])
    assert listed.exit_code == 0, listed.output
    entries = json.loads(listed.output)
    assert len(entries) == 2  # the second fit went beside the first
    first, second = entries
    assert first["model_id"] == folder.name
    assert first["comparison"]["window_from"].startswith("2026-10-25")
    for e in (first, second):
        c = e["comparison"]
        if c["replayed"] is None:  # kept out by its scores: the replay is not run for it
            assert not c["promoted"] and "replay" not in c["reason"], c["reason"]
        else:  # its scores passed: the window replayed with all three deciders decided
            assert set(c["replayed"]) == {"candidate", "baseline", "live", "node_ticks"}
    assert first["comparison"]["replayed"] is not None, first["comparison"]["reason"]
    assert second["comparison"]["window_from"].startswith("2026-10-29")
    if first["comparison"]["promoted"]:
        assert second["comparison"]["live_id"] == first["model_id"]
    live = [e["model_id"] for e in entries if e["live"]]
    promoted = [e["model_id"] for e in entries if e["comparison"]["promoted"]]
    assert live == promoted[-1:]  # the last one promoted decides (none: the baseline)

    table = runner.invoke(app, ["models", "--path", str(registry)])
    assert table.exit_code == 0, table.output
    assert folder.name in table.output and "deciding:" in table.output
    assert "replayed" in table.output


def test_train_needs_one_source_and_an_existing_history(tmp_path: Path) -> None:
    runner = CliRunner()
    neither = runner.invoke(app, ["train"])
    assert neither.exit_code == 2 and "--traces DIR" in neither.output
    missing = runner.invoke(app, ["train", "--history", str(tmp_path / "none.duckdb")])
    assert missing.exit_code == 2 and "no history at" in missing.output
    empty = runner.invoke(app, ["models", "--path", str(tmp_path / "nothing")])
    assert empty.exit_code == 0 and "the baseline decides" in empty.output
