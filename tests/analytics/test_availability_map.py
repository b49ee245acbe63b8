"""The report's pool maps: capacity from the public traces, placement scores from a running
fleet, each read where the history has it (a daemon's history holds no capacity rows)."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

from analytics.availability_map import availability_maps, capacity_map, score_map
from analytics.ingest.traces import ingest_traces
from analytics.report import write_report
from analytics.store import History

from .conftest import write_trace

T0 = datetime(2024, 3, 1)
POOL = "us-east-1/us-east-1a/g5.xlarge"


def _scores(history: History, rows: list[tuple[str | None, str, int, int, str]]) -> None:
    """(zone, instance type, target capacity, score, time) in us-east-1, as the collector keeps
    them (``reconciler.collect.placement_scores``)."""
    history.con.executemany(
        "INSERT INTO placement_scores VALUES ('us-east-1', ?, 'use1-az1', ?, ?, ?, ?, 'aws')",
        rows,
    )


def _price_collectors_capacity(history: History) -> None:
    history.con.execute(
        "INSERT INTO capacity_observations VALUES (?, '2024-03-01 00:05', 6, 300, "
        "'observed:price')",
        [POOL],
    )


def test_a_daemons_history_maps_its_placement_scores_hour_by_hour(history: History) -> None:
    _price_collectors_capacity(history)  # says nothing: left out, not a capacity map of 1s
    _scores(
        history,
        [
            ("us-east-1a", "g5.xlarge", 3, 8, "2024-03-01 00:05"),
            ("us-east-1a", "g5.xlarge", 3, 4, "2024-03-01 00:35"),
            ("us-east-1a", "g5.xlarge", 1, 10, "2024-03-01 00:35"),  # a smaller request
            ("us-east-1a", "g5.xlarge", 3, 9, "2024-03-01 01:05"),
            (None, "g5.2xlarge", 3, 1, "2024-03-01 01:05"),  # its zone not named yet
        ],
    )
    assert capacity_map(history.con) is None
    found = score_map(history.con)
    assert found is not None
    assert found.title == "Placement score over time" and (found.low, found.high) == (1.0, 10.0)
    assert found.pools == (POOL,)
    assert found.cells == (
        (POOL, datetime(2024, 3, 1, 0), 6.0),
        (POOL, datetime(2024, 3, 1, 1), 9.0),
    )
    assert [m.title for m in availability_maps(history.con)] == ["Placement score over time"]


def test_the_traces_capacity_is_mapped_before_the_scores(history: History, tmp_path: Path) -> None:
    folder = tmp_path / "aws-03-01-2024"
    write_trace(folder, "us-east-1a_v100_1", [1, 0, 1, 1], gap=1800)
    ingest_traces(history, folder)
    _scores(history, [("us-east-1a", "g5.xlarge", 3, 7, "2024-03-01 00:05")])
    traced, scored = availability_maps(history.con)
    assert traced.title == "Capacity over time"
    assert [v for *_, v in traced.cells] == [0.5, 1.0]  # 1 then 0; 1 then 1
    assert scored.cells == ((POOL, datetime(2024, 3, 1, 0), 7.0),)


def test_the_report_draws_the_scores_where_the_history_has_no_capacity(
    history: History, tmp_path: Path
) -> None:
    _scores(history, [("us-east-1a", "g5.xlarge", 3, 7, "2024-03-01 00:05")])
    out = tmp_path / "report.html"
    write_report(history.con, out)
    page = out.read_text()
    sections = re.findall(r"<h2>([^<]+)</h2>(<img|<p)", page)
    assert sections[0] == ("Placement score over time", "<img")
    assert "Capacity over time" not in page
