"""The daily retrain fits a candidate on the history the daemon has collected, keeps it in the
registry beside the others, and lets it decide only when it has earned its place."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from analytics.ingest.prices import ingest_on_demand_prices, ingest_spot_price_pages
from analytics.ingest.traces import ingest_traces
from analytics.store import History, open_history
from reconciler.actuate.shadow import ShadowActuator
from reconciler.core.history.ledger import Ledger
from reconciler.core.settings import DaemonSettings, FleetTarget
from reconciler.daemon.daemon import Daemon
from reconciler.decide.model_registry import list_models, live_model, read_live
from tests.history_rows import history_rows

from .aws_history import END as AWS_END
from .aws_history import GRID_S as AWS_GRID_S
from .aws_history import fleet_kwargs, write_aws_history
from .conftest import fleet_groups

END = datetime(2023, 3, 1, tzinfo=UTC)  # day 14 of the public collection
ZONES = ("us-east-1a", "us-east-1c", "us-east-1d", "us-east-1f")
FLEET = FleetTarget(
    name="gen",
    instance_types=("p3.2xlarge",),
    subnets={z: f"subnet-0aaa000{i}" for i, z in enumerate(ZONES)},
    **fleet_groups("gen", tuple(ZONES), ("p3.2xlarge",)),
)


@pytest.fixture
def traced(tmp_path: Path, public_data: Path) -> History:
    history = open_history(tmp_path / "history.duckdb")
    ingest_traces(
        history, public_data / "spot-traces" / "availability" / "1-node" / "aws-02-15-2023"
    )
    ingest_on_demand_prices(history, public_data / "replay-prices.json")
    record = {
        "InstanceType": "p3.2xlarge",
        "ProductDescription": "Linux/UNIX",
        "SpotPrice": "0.918",
        "Timestamp": "2023-02-15T00:00:00Z",
    }
    pages = [{"SpotPriceHistory": [{**record, "AvailabilityZone": z} for z in ZONES]}]
    ingest_spot_price_pages(history, pages, source="test")
    return history


def _daemon(history: History, settings: DaemonSettings, now: datetime) -> Daemon:
    return Daemon(
        settings=settings,
        ledger=Ledger(history),
        actuators={"shadow": ShadowActuator()},
        clock=lambda: now,
    )


def test_retrain_keeps_every_candidate_and_promotes_one_that_beats_the_baseline(
    tmp_path: Path, traced: History
) -> None:
    model_path = tmp_path / "model"
    settings = DaemonSettings(
        history_path=tmp_path / "history.duckdb", model_path=model_path, fleets=(FLEET,), grid_s=195
    )
    daemon = _daemon(traced, settings, END)
    assert daemon.reconciler.model is None  # nothing trained yet: the baseline decides
    assert daemon.model_state.deciding == "baseline"

    daemon.retrain()
    (first,) = list_models(model_path)
    c = first.comparison
    assert c is not None and c.live is None  # no model decided: the baseline is the rival
    assert c.window_from.startswith("2023-02-27") and c.window_until.startswith("2023-03-01")
    assert first.trained_until is not None and first.trained_until <= c.window_from  # unseen
    assert c.candidate.losses > 0 and c.candidate.auc > c.baseline.auc  # day 12-14 of aws-02-15
    assert c.promoted, c.reason
    assert read_live(model_path).model_id == first.model_id  # type: ignore[union-attr]
    assert daemon.reconciler.model is not None
    assert daemon.reconciler.model.meta["model_id"] == first.model_id
    assert daemon.model_state.deciding == first.model_id
    assert daemon.model_state.comparison == c
    assert daemon.reconciler.model.meta["pools"] == list(FLEET.pools())

    later = _daemon(traced, settings, datetime(2023, 3, 8, tzinfo=UTC))
    assert later.model_state.deciding == first.model_id  # a restart reads the pointer
    assert later.model_state.comparison == c
    later.retrain()  # a week on: a second artifact beside the first, compared with it
    models = list_models(model_path)
    assert models[0].model_id == first.model_id
    assert len(models) == 2 and models[0].fingerprint != models[1].fingerprint
    second = models[1].comparison
    assert second is not None and second.live is not None and second.live_id == first.model_id
    assert second.window_until.startswith("2023-03-08")
    live, pointer = live_model(model_path)
    assert live is not None
    expected = models[1].model_id if second.promoted else first.model_id
    assert pointer is not None and pointer.model_id == expected
    assert later.model_state.deciding == expected
    assert later.model_state.candidate_id == models[1].model_id
    assert json.loads((first.folder / "model.json").read_text())["model_id"] == first.model_id
    traced.close()


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
