"""The registry keeps each comparison's replayed figures, and still reads artifacts written
before the replay was asked."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from reconciler.decide.model import ModelSettings
from reconciler.decide.model_compare import Comparison, Replayed, ReplayedFigures, Scores
from reconciler.decide.model_registry import list_models, register
from reconciler.decide.signal_model import PriorAndOwn, train_own
from tests.reconciler.helpers import fleet_signals

AT = datetime(2026, 10, 24, tzinfo=UTC)


def _blend() -> PriorAndOwn:
    pools, n = 2, 1200
    warned = np.zeros((pools, n), np.int32)
    warned[:, 20::30] = 1
    fleet = fleet_signals(
        held=np.ones((pools, n)), warned=warned, score=np.full((pools, n), 6.0), zones="ab"
    )
    return PriorAndOwn(None, train_own(fleet), ModelSettings())


def _comparison(replayed: Replayed | None) -> Comparison:
    return Comparison(
        window_from="2026-10-22T00:00:00+00:00",
        window_until="2026-10-24T00:00:00+00:00",
        candidate=Scores(0.71, 0.021, 864, 40),
        baseline=Scores(0.55, 0.030, 864, 40),
        live=None,
        live_id=None,
        live_saw_window=False,
        promoted=False,
        reason="not promoted: ... its replay of the window serves worse than the baseline",
        replayed=replayed,
    )


def test_the_replayed_figures_round_trip_through_the_registry(tmp_path: Path) -> None:
    replayed = Replayed(
        candidate=ReplayedFigures(0.9531, 0.3012),
        baseline=ReplayedFigures(0.9757, 0.3388),
        live=None,
        node_ticks=2304,
    )
    register(tmp_path, _blend(), _comparison(replayed), created_at=AT)
    (entry,) = list_models(tmp_path)
    assert entry.comparison == _comparison(replayed)
    raw = json.loads((entry.folder / "model.json").read_text())
    assert raw["comparison"]["replayed"]["candidate"] == {
        "availability": 0.9531,
        "cost_ratio": 0.3012,
    }


def test_an_artifact_from_before_the_replay_still_loads_without_figures(tmp_path: Path) -> None:
    register(tmp_path, _blend(), _comparison(None), created_at=AT)
    (entry,) = list_models(tmp_path)
    meta_file = entry.folder / "model.json"
    meta = json.loads(meta_file.read_text())
    del meta["comparison"]["replayed"]  # as the registry wrote it before the replay was asked
    meta_file.write_text(json.dumps(meta))
    (old,) = list_models(tmp_path)
    assert old.comparison is not None and old.comparison.replayed is None
    assert old.comparison.candidate == Scores(0.71, 0.021, 864, 40)
