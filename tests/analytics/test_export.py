from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb

from analytics.export import export_history, open_export
from analytics.ingest.traces import ingest_traces
from analytics.queries import run_canned
from analytics.store import History

from .conftest import write_trace


def seeded(history: History, tmp_path: Path) -> None:
    folder = tmp_path / "aws-01-01-2024"
    write_trace(folder, "us-east-1a_v100_1", [1, 0, 1] * 600, gap=600)  # spans ~12 days
    write_trace(folder, "us-east-1b_v100_1", [1, 1, 0] * 600, gap=600)
    ingest_traces(history, folder)


def test_the_export_is_hive_partitioned_by_day_and_readable_without_spotfleet(
    history: History, tmp_path: Path
) -> None:
    seeded(history, tmp_path)
    written = export_history(history, tmp_path / "export")
    assert written["capacity_observations"] == 3600
    days = sorted(p.name for p in (tmp_path / "export" / "capacity_observations").iterdir())
    assert days[0] == "day=2024-01-01" and len(days) == 13
    plain = duckdb.connect()
    rows = plain.execute(
        "SELECT count(*), count(DISTINCT day) FROM read_parquet(?, hive_partitioning = true)",
        [str(tmp_path / "export" / "capacity_observations" / "**" / "*.parquet")],
    ).fetchall()
    assert rows == [(3600, 13)]


def test_canned_queries_over_the_export_match_the_history(history: History, tmp_path: Path) -> None:
    seeded(history, tmp_path)
    export_history(history, tmp_path / "export")
    exported = open_export(tmp_path / "export")
    for name in ("pool-availability", "interruption-rate", "capacity-by-hour-of-week", "savings"):
        assert run_canned(exported, name).rows == run_canned(history.con, name).rows


def test_a_new_export_swaps_in_whole_and_keeps_the_previous_one_for_readers(
    history: History, tmp_path: Path
) -> None:
    seeded(history, tmp_path)
    target = tmp_path / "export"
    export_history(history, target)
    first = os.readlink(target / "current")
    assert os.readlink(target / "capacity_observations") == "current/capacity_observations"
    history.con.execute("DELETE FROM capacity_observations WHERE pool LIKE '%1b%'")
    export_history(history, target)
    export_history(history, target)
    assert os.readlink(target / "current") != first
    assert len(list((target / ".snapshots").iterdir())) == 2
    assert run_canned(open_export(target), "pool-availability").rows[0][1] == 1800


def test_analysts_read_the_export_while_the_daemon_holds_the_history(tmp_path: Path) -> None:
    db, export = tmp_path / "history.duckdb", tmp_path / "export"
    folder = tmp_path / "aws-01-01-2024"
    write_trace(folder, "us-east-1a_v100_1", [1, 0, 1, 1], gap=60)
    writer = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
            import sys
            from pathlib import Path
            from analytics.export import export_history
            from analytics.ingest.traces import ingest_traces
            from analytics.store import open_history
            history = open_history({str(db)!r})
            ingest_traces(history, Path({str(folder)!r}))
            export_history(history, Path({str(export)!r}))
            print("ready", flush=True)
            sys.stdin.read()  # hold the writer connection until the test is done
        """),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "ready"
        cli = [sys.executable, "-m", "analytics", "--db", str(db)]
        refused = subprocess.run(
            [*cli, "query", "pool-availability"], capture_output=True, text=True
        )
        assert refused.returncode == 2
        assert "held by another process" in refused.stderr and "--export" in refused.stderr
        read = subprocess.run(
            [*cli, "--export", str(export), "query", "pool-availability", "--format", "csv"],
            capture_output=True,
            text=True,
            check=True,
        )
        assert read.stdout.splitlines()[1].startswith("us-east-1/us-east-1a/p3.2xlarge,4,0.75,")
    finally:
        writer.communicate("", timeout=30)
