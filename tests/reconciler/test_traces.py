"""Loading a collection folder and its prices, and window days, as REPLAY.md defines them."""

from __future__ import annotations

import json

import pytest

from reconciler.core.errors import MarketDataError, WindowError
from reconciler.core.traces import (
    TraceLengthWarning,
    day_to_tick,
    load_collection,
    load_prices,
    window_ticks,
)
from tests.reconciler.helpers import write_traces


def test_pools_are_ordered_by_name_and_filtered_by_tag(tmp_path):
    folder = write_traces(
        tmp_path / "aws-02-15-2023",
        {"us-west-2b_v100_1": [1], "us-east-1a_v100_1": [0], "us-east-1a_k80_1": [1]},
    )
    c = load_collection(folder)  # default: the tag of the first pool by name
    assert c.tag == "k80_1"
    assert c.stems == ("us-east-1a_k80_1",)
    c = load_collection(folder, "v100_1")
    assert c.stems == ("us-east-1a_v100_1", "us-west-2b_v100_1")
    assert c.regions == ("us-east-1", "us-west-2")
    assert c.start.isoformat().startswith("2023-02-15")
    assert [p.name for p in c.pool_infos()] == [
        "us-east-1/us-east-1a/p3.2xlarge",
        "us-west-2/us-west-2b/p3.2xlarge",
    ]


def test_traces_of_different_lengths_are_cut_to_the_shortest_with_a_warning(tmp_path):
    folder = write_traces(
        tmp_path / "c", {"us-east-1a_v100_1": [1, 1, 1], "us-east-1b_v100_1": [0, 1]}
    )
    with pytest.warns(TraceLengthWarning, match="cut to the shortest"):
        c = load_collection(folder)
    assert c.capacity.shape == (2, 2)


def test_mixed_gaps_are_refused(tmp_path):
    folder = write_traces(tmp_path / "c", {"us-east-1a_v100_1": [1]}, gap=100)
    write_traces(folder, {"us-east-1b_v100_1": [1]}, gap=200)
    with pytest.raises(MarketDataError, match="different gap_seconds"):
        load_collection(folder)


def test_zone_price_overrides_default_spot(tmp_path):
    path = tmp_path / "prices.json"
    path.write_text(
        json.dumps(
            {
                "accelerators": {
                    "v100_1": {"instance_type": "p3.2xlarge", "on_demand": 3.06, "spot": 0.918}
                },
                "zones": {"us-east-1a": {"v100_1": 1.5}},
            }
        )
    )
    p = load_prices(path, "v100_1")
    assert p.spot_for("us-east-1a") == 1.5
    assert p.spot_for("us-east-1b") == 0.918
    with pytest.raises(MarketDataError, match="no prices for accelerator"):
        load_prices(path, "k80_1")


def test_window_days_floor_and_clip():
    assert day_to_tick(20, 195, 13292) == 8861  # floor(20 x 86400 / 195)
    assert day_to_tick(31, 195, 13292) == 13292  # clipped to the trace
    assert window_ticks(13292, 195, 20, 30) == (8861, 13292)
    with pytest.raises(WindowError):
        window_ticks(100, 195, 5, 4)
