"""The embedded default's seed days give the history only what AWS would give a daemon that
collected then: placement scores from the trace's free room, never a capacity number."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from analytics.pools import Pool
from analytics.store import open_history
from reconciler.core.history.ledger import Ledger
from reconciler.embedded.market import MarketPool
from reconciler.embedded.replay import (
    ReplayedMarket,
    record_prices,
    record_seed_scores,
    seed_series,
)
from tests.history_rows import history_rows

BEGIN = datetime(2023, 2, 15, tzinfo=UTC)


def _market() -> ReplayedMarket:
    pools = (
        MarketPool(Pool("us-east-1", "us-east-1a", "g5.xlarge"), np.array([6, 3, 0, 6]), 0.4, 1.0, "t"),
        MarketPool(Pool("us-east-1", "us-east-1b", "g5.2xlarge"), np.array([1, 1, 1, 1]), 0.5, 1.2, "t"),
    )  # fmt: skip
    return ReplayedMarket(pools, BEGIN, 600, "test", 1)


def test_seed_days_become_placement_scores_and_prices_only(tmp_path: Path) -> None:
    market = _market()
    with open_history(tmp_path / "history.duckdb") as history:
        ledger = Ledger(history)
        with ledger.writing():
            record_prices(history, market)
        assert record_seed_scores(ledger, market, 0, 2, target=6) == 6
        scores = history_rows(
            ledger,
            "SELECT zone, epoch(ts) - epoch(?::TIMESTAMP), score, target_capacity "
            "FROM placement_scores ORDER BY zone, ts",
            [BEGIN.replace(tzinfo=None)],
        )
        # score = clamp(1 + round(9 * free / target), 1, 10), halves to even: 6 of 6 -> 10,
        # 3 -> 5, 0 -> 1, 1 -> 3
        assert [(z, int(s), sc) for z, s, sc, _ in scores] == [
            ("us-east-1a", 0, 10), ("us-east-1a", 600, 5), ("us-east-1a", 1200, 1),
            ("us-east-1b", 0, 3), ("us-east-1b", 600, 3), ("us-east-1b", 1200, 3),
        ]  # fmt: skip
        assert history_rows(ledger, "SELECT count(*) FROM capacity_observations") == [(0,)]
    series = seed_series(market, 3)  # the prior's input: the public trace, outside the history
    assert series.capacity.tolist() == [[6, 3, 0], [1, 1, 1]]
