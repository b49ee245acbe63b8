"""``/status`` and the status page say which model decides and why, with the comparison."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from analytics.store import History, open_history
from reconciler.actuate.shadow import ShadowActuator
from reconciler.api.app import SourceHolder, create_app
from reconciler.api.source import DaemonSource
from reconciler.core.history.ledger import Ledger
from reconciler.core.settings import DaemonSettings, FleetTarget
from reconciler.daemon.daemon import Daemon

from .aws_history import END, GRID_S, fleet_kwargs, write_aws_history
from .helpers import serve


@pytest.fixture
def history(tmp_path: Path) -> Iterator[History]:
    h = open_history(tmp_path / "history.duckdb")
    write_aws_history(h, warnings=60)
    yield h
    h.close()


def _daemon(history: History, tmp_path: Path, evaluation_days: float) -> Daemon:
    settings = DaemonSettings(
        history_path=tmp_path / "history.duckdb",
        model_path=tmp_path / "model",
        fleets=(FleetTarget(**fleet_kwargs()),),  # type: ignore[arg-type]
        grid_s=GRID_S,
        model_evaluation_s=evaluation_days * 86400.0,
    )
    return Daemon(
        settings=settings,
        ledger=Ledger(history),
        actuators={"shadow": ShadowActuator()},
        clock=lambda: END,
    )


def test_status_and_page_say_the_baseline_decides_then_the_promoted_model_and_why(
    history: History, tmp_path: Path
) -> None:
    daemon = _daemon(history, tmp_path, evaluation_days=6)
    for url in serve(create_app(SourceHolder(DaemonSource(daemon)), token=None)):
        with httpx.Client(base_url=url) as c:
            before = c.get("/status").json()["model"]
            assert before["deciding"] == "baseline" and before["comparison"] is None
            assert "no model at" in before["reason"]
            daemon.retrain()
            model = c.get("/status").json()["model"]
            page = c.get("/").text
    comparison = model["comparison"]
    assert comparison["promoted"] is True, comparison["reason"]
    assert model["deciding"] == model["candidate_id"] != "baseline"
    assert model["reason"].startswith("promoted: candidate AUC")
    assert comparison["candidate"]["auc"] > comparison["baseline"]["auc"]
    assert comparison["candidate"]["brier"] <= comparison["baseline"]["brier"]
    assert comparison["window_from"].startswith("2026-10-25")
    assert 'id="model"' in page and model["deciding"] in page and "beats the baseline" in page
    # The same days replayed through the decision path: served at least as well, shown.
    replayed = comparison["replayed"]
    assert replayed["candidate"]["availability"] >= replayed["baseline"]["availability"]
    assert replayed["node_ticks"] > 0 and "replays the window at least as well" in model["reason"]
    assert "replayed through the decision path" in page


def test_a_restart_says_why_the_live_model_decides_and_why_the_last_candidate_does_not(
    history: History, tmp_path: Path
) -> None:
    _daemon(history, tmp_path, evaluation_days=6).retrain()  # promoted (test above)
    second = _daemon(history, tmp_path, evaluation_days=2)
    second.retrain()  # scored on the last two days, where it does not beat the live model
    restarted = DaemonSource(_daemon(history, tmp_path, evaluation_days=2)).status().model
    assert restarted is not None
    assert restarted.comparison is not None and restarted.comparison.promoted
    assert restarted.deciding != "baseline"
    assert restarted.candidate is not None and restarted.candidate_id != restarted.deciding
    assert not restarted.candidate.promoted
    assert restarted.candidate.live_id == restarted.deciding
    assert restarted.candidate.reason.startswith("not promoted")
