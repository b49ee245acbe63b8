"""The daily retrain fits the model on the history the daemon has collected."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from analytics.ingest.prices import ingest_on_demand_prices, ingest_spot_price_pages
from analytics.ingest.traces import ingest_traces
from analytics.store import open_history
from reconciler.actuate.shadow import ShadowActuator
from reconciler.daemon.daemon import Daemon
from reconciler.daemon.ledger import Ledger
from reconciler.daemon.settings import DaemonSettings, FleetTarget
from reconciler.model import load_model

from .conftest import fleet_groups

END = datetime(2023, 3, 1, tzinfo=UTC)  # day 14 of the public collection


def test_retrain_fits_on_collected_history_and_swaps_the_model_in(
    tmp_path: Path, public_data: Path
) -> None:
    history = open_history(tmp_path / "history.duckdb")
    ingest_traces(
        history, public_data / "spot-traces" / "availability" / "1-node" / "aws-02-15-2023"
    )
    ingest_on_demand_prices(history, public_data / "replay-prices.json")
    zones = ("us-east-1a", "us-east-1c", "us-east-1d", "us-east-1f")
    ingest_spot_price_pages(
        history,
        [
            {
                "SpotPriceHistory": [
                    {
                        "AvailabilityZone": z,
                        "InstanceType": "p3.2xlarge",
                        "ProductDescription": "Linux/UNIX",
                        "SpotPrice": "0.918",
                        "Timestamp": "2023-02-15T00:00:00Z",
                    }
                    for z in zones
                ]
            }
        ],
        source="test",
    )
    fleet = FleetTarget(
        name="gen",
        instance_types=("p3.2xlarge",),
        subnets={z: f"subnet-0aaa000{i}" for i, z in enumerate(zones)},
        **fleet_groups("gen", tuple(zones), ("p3.2xlarge",)),
    )
    model_path = tmp_path / "model"
    settings = DaemonSettings(
        history_path=tmp_path / "history.duckdb", model_path=model_path, fleets=(fleet,), grid_s=195
    )
    daemon = Daemon(
        settings=settings,
        ledger=Ledger(history),
        actuators={"shadow": ShadowActuator()},
        clock=lambda: END,
    )
    assert daemon.reconciler.model is None  # nothing trained yet: the baseline decides

    daemon.retrain()
    trained = load_model(model_path)
    assert daemon.reconciler.model is not None
    assert trained.meta["pools"] == list(fleet.pools())  # the fleet's pools, from the history
    assert trained.meta["training_window"]["until"].startswith("2023-03-01")  # nothing after now
    assert trained.meta["rows"]["fit"] > 1000
    assert not model_path.with_name("model.new").exists()
    assert not model_path.with_name("model.old").exists()

    later = Daemon(
        settings=settings,
        ledger=Ledger(history),
        actuators={"shadow": ShadowActuator()},
        clock=lambda: datetime(2023, 3, 8, tzinfo=UTC),
    )
    later.retrain()  # a week on: a new fit replaces the artifact whole
    assert load_model(model_path).meta["training_window"]["until"].startswith("2023-03-08")
    assert load_model(model_path).meta["fingerprint"] != trained.meta["fingerprint"]
    history.close()
