"""On AWS the history has prices, the fleet's own warnings and a capacity guessed from offered
prices (constant): the warnings are what the model learns from (issue 13's reproduction)."""

from __future__ import annotations

import math
from pathlib import Path

from analytics.store import open_history
from reconciler.core.history.ledger import Ledger
from reconciler.core.history.market_series import read_market
from reconciler.daemon.training import train_from_history

from .aws_history import DAYS, END, GRID_S, write_aws_history


def test_the_history_read_counts_each_warning_at_the_first_tick_that_knows_it(
    tmp_path: Path,
) -> None:
    history = open_history(tmp_path / "history.duckdb")
    written = write_aws_history(history, warnings=60)
    with Ledger(history).reader() as con:
        series = read_market(
            con, until=END, lookback_s=DAYS * 86400.0, pools=list(written.pools), interval_s=GRID_S
        )
        rows = con.execute("SELECT pool, epoch(ts) FROM interruption_events ORDER BY ts").fetchall()
    assert series.warnings is not None
    assert int(series.warnings.sum()) == 60
    names = [p.name for p in series.pools]
    pool, at = rows[0]
    tick = math.ceil((at - series.t0) / GRID_S)
    assert series.warnings[names.index(pool), tick] >= 1
    assert series.t0 + (tick - 1) * GRID_S < at <= series.t0 + tick * GRID_S
    history.close()


def test_a_month_of_warnings_without_capacity_traces_trains(tmp_path: Path) -> None:
    history = open_history(tmp_path / "history.duckdb")
    written = write_aws_history(history, warnings=60)
    assert written.warnings == 60
    with Ledger(history).reader() as con:
        distinct = con.execute("SELECT DISTINCT capacity FROM capacity_observations").fetchall()
        assert distinct == [(4,)]  # nothing but the collector's guess: no capacity traces
        model = train_from_history(
            con, list(written.pools), now=END, lookback_s=DAYS * 86400.0, grid_s=GRID_S
        )
    rows = model.meta["rows"]
    assert rows["loss_rate"] > 0.0  # warnings are losses
    assert rows["holdout"] > 1000
    held = model.meta["holdout"]["model"]
    assert 0.0 <= held["brier"] < 0.25
    assert held["auc"] == held["auc"]  # a number: the held-out days hold warnings
    history.close()
