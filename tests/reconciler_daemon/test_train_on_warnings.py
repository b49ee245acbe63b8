"""On AWS the history has prices, the fleet's own warnings and a capacity guessed from offered
prices (constant): the warnings are what the model learns from (issue 13's reproduction)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from analytics.store import History, open_history
from reconciler.core.history.ledger import Ledger
from reconciler.core.history.market_series import read_market
from reconciler.daemon.training import train_from_history
from reconciler.decide.model_compare import Comparison
from reconciler.decide.signal_model import PriorAndOwn

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
    # The daemon's model learns from its own nodes: a row is a pool-tick where a node was held
    # (each warned node 5 h, 30 ticks), not every pool-tick of a capacity series.
    assert model.meta["features"][-1] == "refusals_24h"  # the signal features
    rows = model.meta["rows"]
    assert rows["loss_rate"] > 0.0  # warnings are losses
    assert 200 < rows["holdout"] < 60 * 30
    held = model.meta["holdout"]["model"]
    assert 0.0 <= held["brier"] < 0.25
    assert held["auc"] > model.meta["holdout"]["baseline_1_minus_avail_24h"]["auc"]
    history.close()


def test_the_fleets_own_nodes_train_the_signal_model_from_the_history(tmp_path: Path) -> None:
    """Issue 13 item 2: labels from the fleet's own nodes (warned within H, censored where the
    node ran on), on signals read from the history, with no capacity number in them."""
    from reconciler.core.history.fleet_signals import read_signals
    from reconciler.decide.signal_labels import held_loss_labels
    from reconciler.decide.signal_model import PriorAndOwn, train_own

    history = open_history(tmp_path / "history.duckdb")
    written = write_aws_history(history, warnings=60)
    with Ledger(history).reader() as con:
        signals = read_signals(
            con, until=END, lookback_s=DAYS * 86400.0, pools=list(written.pools), interval_s=GRID_S
        )
    assert int(signals.warned.sum()) == 60
    assert int(signals.held.max()) >= 1  # the nodes table's lifetimes
    labels = held_loss_labels(signals, range(signals.n_ticks), horizon_seconds=7200.0)
    # Each warned node was held 5 h: ~2 h of rows labelled 1, ~3 h labelled 0, the rest none.
    assert 60 * 10 <= np.nansum(labels) <= 60 * 13
    assert 60 * 15 <= int((labels == 0).sum()) <= 60 * 19
    own = train_own(signals)
    assert own.meta["features"][-1] == "refusals_24h"
    assert own.meta["rows"]["loss_rate"] > 0.3
    blend = PriorAndOwn(prior=None, own=own, settings=own.settings)
    assert blend.own_weight == 1.0  # no prior: the fleet's evidence alone
    history.close()


def _fit_candidate(
    history: History, pools: Sequence[str], live: PriorAndOwn | None
) -> tuple[PriorAndOwn, Comparison]:
    """The daemon's retrain fit on the AWS-shaped month, judged on its last three days."""
    import reconciler.daemon.training as training  # looked up here: a test may wrap its replay

    with Ledger(history).reader() as con:
        return training.fit_candidate(
            con,
            list(pools),
            now=END,
            lookback_s=DAYS * 86400.0,
            grid_s=GRID_S,
            evaluation_s=3 * 86400.0,
            live=live,
            live_id=None if live is None else "0001",
        )


def test_the_retrain_reads_no_capacity_number_at_all(tmp_path: Path) -> None:
    """Without a single capacity row (a daemon whose price collector records none), the
    daemon's candidate still fits from the signals and is compared on the days it did not fit."""
    history = open_history(tmp_path / "history.duckdb")
    written = write_aws_history(history, warnings=60)
    history.con.execute("DELETE FROM capacity_observations")
    blend, comparison = _fit_candidate(history, written.pools, None)
    assert blend.own is not None and blend.prior is None and blend.own_weight == 1.0
    assert comparison.candidate.losses > 0 and comparison.candidate.rows > 0
    assert comparison.candidate.auc > comparison.baseline.auc, comparison.reason
    history.close()


def test_only_a_candidate_its_scores_let_through_is_replayed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The replay of the judging days is the dear part of a retrain (seconds of the daemon's
    CPU per fleet): it runs for a candidate whose scores beat its rivals, never for one the
    scores already keep out."""
    import reconciler.daemon.training as training

    history = open_history(tmp_path / "history.duckdb")
    written = write_aws_history(history, warnings=60)
    replays: list[int] = []
    from reconciler.replay.promotion_replay import replay_window as real

    def counted(*args: Any, **kwargs: Any) -> Any:
        replays.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(training, "replay_window", counted)
    first, passed = _fit_candidate(history, written.pools, None)
    assert passed.candidate.beats(passed.baseline), passed.reason
    assert replays == [1] and passed.replayed is not None
    # The same fit again, against itself as the live model: equal scores beat nothing.
    _, kept_out = _fit_candidate(history, written.pools, first)
    assert not kept_out.promoted and "does not beat the live model" in kept_out.reason
    assert replays == [1] and kept_out.replayed is None
    history.close()
