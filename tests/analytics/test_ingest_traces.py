from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest

from analytics.errors import IngestError
from analytics.ingest.traces import Trace, ingest_capacity, ingest_traces
from analytics.pools import Pool
from analytics.queries import run_canned
from analytics.store import History, open_history

from .conftest import count, write_trace


def test_a_trace_becomes_observations_per_tick_and_losses_where_capacity_drops(
    history: History, tmp_path: Path
) -> None:
    folder = tmp_path / "aws-02-15-2023"
    write_trace(folder, "us-west-2a_v100_1", [1, 1, 0, 0, 1, 2, 0], gap=60)
    result = ingest_traces(history, folder)
    assert result.inserted == {"pools": 1, "capacity_observations": 7, "interruption_events": 2}
    pool = history.con.execute(
        "SELECT pool, region, zone, instance_type, accelerator FROM pools"
    ).fetchall()
    assert pool == [
        ("us-west-2/us-west-2a/p3.2xlarge", "us-west-2", "us-west-2a", "p3.2xlarge", "v100_1")
    ]
    ticks = history.con.execute(
        "SELECT ts, capacity, interval_s FROM capacity_observations ORDER BY ts"
    ).fetchall()
    assert ticks[0] == (datetime(2023, 2, 15, 0, 0), 1, 60)
    assert ticks[6] == (datetime(2023, 2, 15, 0, 6), 0, 60)
    losses = history.con.execute(
        "SELECT ts, nodes_lost, kind, pool FROM interruption_events ORDER BY ts"
    ).fetchall()
    assert losses == [
        (datetime(2023, 2, 15, 0, 2), 1, "capacity_loss", "us-west-2/us-west-2a/p3.2xlarge"),
        (datetime(2023, 2, 15, 0, 6), 2, "capacity_loss", "us-west-2/us-west-2a/p3.2xlarge"),
    ]


def test_the_same_collection_twice_changes_nothing(history: History, tmp_path: Path) -> None:
    folder = tmp_path / "aws-01-01-2024"
    write_trace(folder, "us-east-1a_k80_1", [1, 0, 1, 0])
    ingest_traces(history, folder)
    assert ingest_traces(history, folder).rows_inserted == 0
    assert (count(history, "capacity_observations"), count(history, "interruption_events")) == (
        4,
        2,
    )


@pytest.mark.parametrize(
    ("data", "gap", "where", "problem"),
    [
        ([1, 0, "1"], 60, "data[2]", "integer >= 0"),
        ([1, -1], 60, "data[1]", "integer >= 0"),
        ([], 60, "data", "non-empty list"),
        ([1], 0, "metadata.gap_seconds", "positive integer"),
        ([1], "60", "metadata.gap_seconds", "positive integer"),
    ],
)
def test_a_malformed_trace_file_refuses_the_whole_collection(
    history: History, tmp_path: Path, data: list, gap: object, where: str, problem: str
) -> None:
    folder = tmp_path / "aws-01-01-2024"
    write_trace(folder, "us-east-1a_v100_1", [1, 1, 0])
    bad = write_trace(folder, "us-east-1b_v100_1", data, gap=gap)
    with pytest.raises(IngestError) as caught:
        ingest_traces(history, folder)
    assert (caught.value.source, caught.value.where) == (str(bad), where)
    assert problem in caught.value.problem
    assert count(history, "capacity_observations") == 0


def test_broken_json_and_bad_file_names_are_named(history: History, tmp_path: Path) -> None:
    folder = tmp_path / "aws-01-01-2024"
    folder.mkdir()
    (folder / "us-east-1a_v100_1.json").write_text(
        '{"metadata": {"gap_seconds": 60},\n "data": [1,'
    )
    with pytest.raises(IngestError, match=r"us-east-1a_v100_1.json, line 2: is not JSON"):
        ingest_traces(history, folder)
    (folder / "us-east-1a_v100_1.json").unlink()
    write_trace(folder, "nozone", [1])
    with pytest.raises(IngestError, match="file name: expected <zone>_<accelerator>.json"):
        ingest_traces(history, folder)


def test_a_folder_without_a_date_needs_an_explicit_start(history: History, tmp_path: Path) -> None:
    folder = tmp_path / "my-traces"
    write_trace(folder, "us-east-1a_v100_1", [1, 0], gap=30)
    with pytest.raises(IngestError, match="--start"):
        ingest_traces(history, folder)
    ingest_traces(history, folder, start=datetime(2025, 6, 1, 12))
    rows = history.con.execute("SELECT max(ts) FROM capacity_observations").fetchall()
    assert rows == [(datetime(2025, 6, 1, 12, 0, 30),)]


def test_pool_availability_is_what_the_public_traces_hold(
    history: History, public_data: Path
) -> None:
    folder = public_data / "spot-traces" / "availability" / "1-node" / "aws-02-15-2023"
    ingest_traces(history, folder)
    expected = {}
    for path in folder.glob("*.json"):
        data = json.loads(path.read_text())["data"]
        zone = path.stem.split("_")[0]
        expected[f"{zone[:-1]}/{zone}/p3.2xlarge"] = (
            len(data),
            sum(v > 0 for v in data) / len(data),
        )
    result = run_canned(history.con, "pool-availability")
    got = {row[0]: (row[1], row[2]) for row in result.rows}
    assert got.keys() == expected.keys()
    for pool, (samples, fraction) in expected.items():
        assert got[pool][0] == samples
        assert got[pool][1] == pytest.approx(fraction, abs=1e-12)


def test_a_market_played_tick_by_tick_records_what_the_whole_series_does() -> None:
    capacity = np.array([2, 2, 1, 0, 0, 3, 1, 1, 0], dtype=np.int32)
    trace = Trace(Pool("us-east-1", "us-east-1a", "g5.xlarge"), "g5", 60, capacity)
    begin = datetime(2026, 1, 1)
    with open_history() as whole, open_history() as played:
        ingest_capacity(whole, [trace], begin=begin, source="demo")
        ingest_capacity(
            played, [Trace(trace.pool, "g5", 60, capacity[:1])], begin=begin, source="demo"
        )
        for t in range(1, len(capacity)):  # each tick with the one before it, as a live market
            window = Trace(trace.pool, "g5", 60, capacity[t - 1 : t + 1])
            ingest_capacity(played, [window], begin=begin, source="demo", first_tick=t - 1)
        for table, order in (("capacity_observations", "ts"), ("interruption_events", "event_id")):
            query = f"SELECT * FROM {table} ORDER BY {order}"
            assert played.con.execute(query).fetchall() == whole.con.execute(query).fetchall()
        losses = whole.con.execute(
            "SELECT nodes_lost FROM interruption_events ORDER BY ts"
        ).fetchall()
        assert [n for (n,) in losses] == [1, 1, 2, 1]
