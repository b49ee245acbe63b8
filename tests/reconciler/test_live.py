"""The live path (DuckDB history) and the backtest path (trace files) give the same features."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import numpy as np
import pytest

from analytics.ingest.advisor import ingest_advisor
from analytics.ingest.traces import ingest_traces
from analytics.store import open_history
from reconciler.core.advisor import load_advisor_bands
from reconciler.core.errors import HistoryReadError
from reconciler.core.history.market_series import read_market, recent_losses
from reconciler.core.traces import load_collection, load_prices
from reconciler.decide.features import compute_features
from reconciler.decide.model import ModelSettings
from reconciler.decide.pipeline import decide
from reconciler.decide.planner import FleetDeclaration, PlannerSettings
from tests.reconciler.helpers import shared_data

DATA = shared_data()
REAL = DATA / "spot-traces" / "availability" / "1-node" / "aws-02-15-2023"

pytestmark = pytest.mark.skipif(not REAL.exists(), reason="the shared data folder is not here")


@pytest.fixture(scope="module")
def slice_folder(tmp_path_factory):
    """Three pools, the first two days of the real collection."""
    folder = tmp_path_factory.mktemp("traces") / "aws-02-15-2023"
    folder.mkdir()
    for stem in ("us-east-1a_v100_1", "us-east-2a_v100_1", "us-west-2b_v100_1"):
        raw = json.loads((REAL / f"{stem}.json").read_text())
        raw["data"] = raw["data"][:886]
        (folder / f"{stem}.json").write_text(json.dumps(raw))
    return folder


def test_live_and_backtest_paths_give_the_same_features(slice_folder):
    prices = load_prices(DATA / "replay-prices.json", "v100_1")
    collection = load_collection(slice_folder)
    replayed = collection.market(prices, load_advisor_bands(DATA / "spot-advisor-data.json"))
    with open_history() as history:
        ingest_traces(history, slice_folder)
        ingest_advisor(history, DATA / "spot-advisor-data.json")
        last = datetime.fromtimestamp(
            replayed.t0 + (replayed.n_ticks - 1) * replayed.gap_seconds, tz=UTC
        )
        live = read_market(
            history.con,
            until=last,
            lookback_s=30 * 86400,
            accelerator="v100_1",
            default_spot_price=prices.spot,
            default_on_demand_price=prices.on_demand,
        )
    assert [p.name for p in live.pools] == [p.name for p in replayed.pools]
    assert live.gap_seconds == replayed.gap_seconds
    assert live.t0 == replayed.t0
    np.testing.assert_array_equal(live.capacity, replayed.capacity)
    ticks = np.arange(replayed.n_ticks)
    np.testing.assert_array_equal(compute_features(live, ticks), compute_features(replayed, ticks))


def test_live_decision_end_to_end_from_the_history(slice_folder):
    prices = load_prices(DATA / "replay-prices.json", "v100_1")
    with open_history() as history:
        ingest_traces(history, slice_folder)
        until = datetime(2023, 2, 17, 0, 0, tzinfo=UTC)
        series = read_market(
            history.con,
            until=until,
            lookback_s=7 * 86400,
            accelerator="v100_1",
            default_spot_price=prices.spot,
            default_on_demand_price=prices.on_demand,
        )
        losses = recent_losses(
            history.con, pools=[p.name for p in series.pools], until=until, window_s=3600
        )
    decided = decide(
        series,
        fleet=FleetDeclaration("images", 2),
        nodes=(),
        now=until.timestamp(),
        model=None,
        model_settings=ModelSettings(),
        planner_settings=PlannerSettings(),
        cold_start_s=300,
        recent_losses=losses,
    )
    assert len(decided.predictions) == 3
    assert all(p.basis == "baseline" for p in decided.predictions)
    assert decided.plan.placement.desired_nodes >= 2
    assert len(decided.plan.verdicts) == 3


def test_pools_without_history_are_refused_with_advice():
    with open_history() as history, pytest.raises(HistoryReadError, match="ingest traces"):
        read_market(history.con, until=datetime(2023, 1, 1), lookback_s=3600, accelerator="v100_1")
