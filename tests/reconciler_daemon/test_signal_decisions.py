"""Issue 13 on the daemon: a reconcile plans from the production signals alone (placement
scores, the fleet's nodes, warnings and refusals, prices), and what decides is the prior
blended with the fleet's own model."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from analytics.ingest.prices import ingest_spot_price_pages
from reconciler.core.errors import DecideError
from reconciler.core.history.ledger import Ledger
from reconciler.daemon.training import load_model
from reconciler.decide.model import ModelSettings, train_model
from reconciler.decide.model_registry import list_models, live_blend, register
from reconciler.decide.signal_model import PriorAndOwn
from tests.history_rows import history_rows

from .conftest import T0, Clock, record_room
from .helpers import CHEAP, FLEET, LocalGroups, make_reconciler


def _aws_signals(ledger: Ledger, *, hours: int = 30) -> None:
    """Hourly prices and placement scores for FLEET, on-demand prices; no capacity row."""
    pages: list[dict[str, object]] = []
    for h in range(hours + 1):
        ts = T0 - timedelta(hours=hours - h)
        pages.extend(
            {
                "AvailabilityZone": pool.split("/")[1],
                "InstanceType": pool.split("/")[2],
                "ProductDescription": "Linux/UNIX",
                "SpotPrice": "0.30" if pool == CHEAP else "0.40",
                "Timestamp": ts,
            }
            for pool in FLEET.pools()
        )
        record_room(ledger, FLEET, at=ts)
    ingest_spot_price_pages(ledger.history, [{"SpotPriceHistory": pages}], source="test")
    ledger.history.con.executemany(
        "INSERT OR IGNORE INTO on_demand_prices VALUES (?, ?, 'Linux', '2000-01-01', ?, 'test')",
        [(FLEET.region, t, p) for t, p in FLEET.on_demand_prices.items()],
    )


def test_a_history_of_signals_without_capacity_rows_decides(ledger: Ledger) -> None:
    _aws_signals(ledger)
    assert history_rows(ledger, "SELECT count(*) FROM capacity_observations") == [(0,)]
    clock = Clock()
    groups = LocalGroups()
    reconciler = make_reconciler(ledger, clock, groups=groups)
    d = reconciler.reconcile(FLEET)
    assert d.applied, d.reason
    assert groups.counts() == {CHEAP: 2}  # the cheapest pool the scores say has room
    # The pool's capacity in the plan is what a score of 10 for max_nodes stands for.
    snapshot = reconciler.last[FLEET.name].snapshot
    assert {p.name: p.capacity for p in snapshot.pools} == dict.fromkeys(
        FLEET.pools(), FLEET.max_nodes
    )


def test_a_refused_pool_is_believed_to_hold_only_what_the_fleet_has_there(
    ledger: Ledger,
) -> None:
    _aws_signals(ledger)
    clock = Clock()
    groups = LocalGroups(capacity={CHEAP: 0})  # the scores say CHEAP has room; it has none
    reconciler = make_reconciler(ledger, clock, groups=groups)
    reconciler.reconcile(FLEET)
    refused = history_rows(
        ledger, "SELECT target FROM fleet_actions WHERE kind = 'launch_failed' LIMIT 1"
    )
    assert refused == [(CHEAP,)]
    # A grid step later (the refusal is read from the signals, not held in memory) and after
    # the pool's rest: the belief in CHEAP dropped to what the fleet holds there, nothing.
    clock.advance(reconciler.settings.safety.unavailable_s + reconciler.settings.grid_s)
    groups.now = clock()
    groups.observe(ledger, clock())
    reconciler.reconcile(FLEET)
    believed = {p.name: p.capacity for p in reconciler.last[FLEET.name].snapshot.pools}
    assert believed[CHEAP] == 0
    assert all(v >= FLEET.max_nodes for p, v in believed.items() if p != CHEAP)
    assert CHEAP not in groups.counts()


def test_the_prior_decides_alone_until_an_own_model_is_promoted(tmp_path: Path) -> None:
    from analytics.store import open_history
    from reconciler.core.history.fleet_signals import read_signals
    from reconciler.decide.signal_model import train_own
    from tests.reconciler_daemon.aws_history import DAYS, END, write_aws_history

    history = open_history(tmp_path / "history.duckdb")
    written = write_aws_history(history, warnings=60)
    with Ledger(history).reader() as con:
        signals = read_signals(
            con, until=END, lookback_s=DAYS * 86400.0, pools=list(written.pools), interval_s=600
        )
    history.close()
    own = train_own(signals)
    registry = tmp_path / "model"
    # a prior where train --traces writes it: here the own model's booster stands in for one
    prior = train_own(signals, end=signals.n_ticks // 2)
    prior.save(registry)
    blend, pointer = live_blend(registry)
    assert pointer is not None and pointer.model_id == "initial"
    assert blend is not None and blend.own is None and blend.prior is not None
    entry = register(registry, PriorAndOwn(prior, own, own.settings), None, created_at=END)
    assert entry.prior is not None and entry.prior.startswith("initial:")
    assert [e.model_id for e in list_models(registry)] == ["initial", entry.model_id]


def test_a_model_fitted_on_capacity_numbers_says_how_to_replace_it(tmp_path: Path) -> None:
    from reconciler.core.traces import load_collection, load_prices

    data = Path(__file__).resolve().parents[3] / "shared" / "data"
    folder = data / "spot-traces" / "availability" / "1-node" / "aws-02-15-2023"
    if not folder.is_dir():
        pytest.skip("the public traces are not here")
    collection = load_collection(folder, None)
    market = collection.market(load_prices(data / "replay-prices.json", collection.tag), None)
    old = train_model(market, end=market.n_ticks // 3, settings=ModelSettings(num_trees=5))
    old.save(tmp_path / "model")
    with pytest.raises(DecideError, match="train --traces DIR --out"):
        load_model(tmp_path / "model")
    assert json.loads((tmp_path / "model" / "model.json").read_text())["features"][0]


def test_only_the_lookbacks_scores_are_read(ledger: Ledger) -> None:
    """A reconcile reads ``lookback_s`` of signals, not the whole history: a score collected
    before the lookback is not the score in force at its first tick (it was: every score ever
    collected was read and the older ones folded into tick 0, which made a reconcile of 500
    pools over 90 days of scores take 9 s)."""
    import numpy as np

    from reconciler.core.history.fleet_signals import read_signals
    from reconciler.core.history.placement_scores import ScoreRow, record_scores
    from reconciler.embedded.placement_scores import local_zone_id

    _aws_signals(ledger, hours=30)
    stale, fresh = FLEET.pools()[0], FLEET.pools()[1]
    old_region, old_zone, old_type = stale.split("/")
    # A lower score, long before the lookback, in a zone the collector no longer scores.
    ledger.history.con.execute(
        "DELETE FROM placement_scores WHERE zone = ? AND instance_type = ?", [old_zone, old_type]
    )
    record_scores(
        ledger,
        [
            ScoreRow(
                old_region,
                old_zone,
                local_zone_id(old_zone),
                old_type,
                FLEET.max_nodes,
                3,
                T0 - timedelta(hours=29),
                "test",
            )
        ],
    )
    pools = list(FLEET.pools())
    with ledger.reader() as con:
        signals = read_signals(con, until=T0, lookback_s=10 * 3600.0, pools=pools, interval_s=3600)
    row = {p.name: i for i, p in enumerate(signals.pools)}
    assert np.isnan(signals.placement_score[row[stale]]).all()
    assert not np.isnan(signals.placement_score[row[fresh]]).any()
