"""The daily retrain fits a candidate on the history the daemon has collected, keeps it in the
registry beside the others, and lets it decide only when it has earned its place."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

from analytics.store import History, open_history
from reconciler.actuate.shadow import ShadowActuator
from reconciler.core.history.ledger import Ledger
from reconciler.core.settings import DaemonSettings, FleetTarget
from reconciler.daemon.daemon import Daemon
from reconciler.decide.model_registry import list_models, live_blend, read_live
from tests.history_rows import history_rows

from .aws_history import END as AWS_END
from .aws_history import GRID_S as AWS_GRID_S
from .aws_history import fleet_kwargs, write_aws_history


def _daemon(history: History, settings: DaemonSettings, now: datetime) -> Daemon:
    return Daemon(
        settings=settings,
        ledger=Ledger(history),
        actuators={"shadow": ShadowActuator()},
        clock=lambda: now,
    )


def test_retrain_keeps_every_candidate_and_promotes_one_that_beats_the_baseline(
    tmp_path: Path,
) -> None:
    """On a month of AWS-shaped history (prices, the fleet's nodes, 60 warnings; no capacity
    traces): the retrain fits an own model from the fleet's signals."""
    history = open_history(tmp_path / "history.duckdb")
    write_aws_history(history, warnings=60)
    fleet = FleetTarget(**fleet_kwargs())  # type: ignore[arg-type]
    model_path = tmp_path / "model"
    settings = DaemonSettings(
        history_path=tmp_path / "history.duckdb",
        model_path=model_path,
        fleets=(fleet,),
        grid_s=AWS_GRID_S,
    )
    daemon = _daemon(history, settings, AWS_END - _days(7))
    assert daemon.reconciler.model is None  # nothing trained yet: the baseline decides
    assert daemon.model_state.deciding == "baseline"

    daemon.retrain()
    (first,) = list_models(model_path)
    c = first.comparison
    assert c is not None and c.live is None  # no model decided: the baseline is the rival
    assert c.window_from.startswith("2026-10-22") and c.window_until.startswith("2026-10-24")
    assert first.trained_until is not None and first.trained_until <= c.window_from  # unseen
    assert c.candidate.losses > 0 and c.candidate.auc > c.baseline.auc
    assert c.promoted, c.reason
    assert first.prior is None  # no prior at the model path: the own model alone
    assert read_live(model_path).model_id == first.model_id  # type: ignore[union-attr]
    blend = daemon.reconciler.model
    assert blend is not None and blend.own is not None and blend.own_weight == 1.0
    assert blend.own.meta["model_id"] == first.model_id
    assert daemon.model_state.deciding == first.model_id
    assert daemon.model_state.comparison == c
    assert blend.own.meta["pools"] == sorted(fleet.pools())

    later = _daemon(history, settings, AWS_END)
    assert later.model_state.deciding == first.model_id  # a restart reads the pointer
    assert later.model_state.comparison == c
    later.retrain()  # a week on: a second artifact beside the first, compared with it
    models = list_models(model_path)
    assert models[0].model_id == first.model_id
    assert len(models) == 2 and models[0].fingerprint != models[1].fingerprint
    second = models[1].comparison
    assert second is not None and second.live is not None and second.live_id == first.model_id
    assert second.window_until.startswith("2026-10-31")
    live, pointer = live_blend(model_path)
    assert live is not None and live.own is not None
    expected = models[1].model_id if second.promoted else first.model_id
    assert pointer is not None and pointer.model_id == expected
    assert live.own.meta["model_id"] == expected
    assert later.model_state.deciding == expected
    assert later.model_state.candidate_id == models[1].model_id
    assert json.loads((first.folder / "model.json").read_text())["model_id"] == first.model_id
    history.close()


def test_a_candidate_scored_on_days_without_losses_does_not_decide(tmp_path: Path) -> None:
    history = open_history(tmp_path / "history.duckdb")
    write_aws_history(history, warnings=60)
    # The last two days' warnings never reached the history (the queue was down): the window
    # has no loss, so it ranks nothing and the baseline keeps deciding.
    history.con.execute(
        "DELETE FROM interruption_events WHERE ts > ?", [AWS_END.replace(tzinfo=None) - _days(3)]
    )
    model_path = tmp_path / "model"
    settings = DaemonSettings(
        history_path=tmp_path / "history.duckdb",
        model_path=model_path,
        fleets=(FleetTarget(**fleet_kwargs()),),  # type: ignore[arg-type]
        grid_s=AWS_GRID_S,
    )
    daemon = _daemon(history, settings, AWS_END)
    daemon.retrain()
    (only,) = list_models(model_path)
    assert only.comparison is not None and not only.comparison.promoted
    assert "ranks nothing" in only.comparison.reason
    assert read_live(model_path) is None  # nothing was ever promoted
    assert daemon.reconciler.model is None
    assert daemon.model_state.deciding == "baseline"
    assert daemon.model_state.candidate_id == only.model_id
    kept = history_rows(
        daemon.ledger, "SELECT kind, target FROM fleet_actions WHERE kind LIKE 'model_%'"
    )
    assert kept == [("model_kept", only.model_id)]
    history.close()


def _days(n: int) -> timedelta:
    return timedelta(days=n)
