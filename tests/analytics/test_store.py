from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest

import analytics.store as store
from analytics.errors import AnalyticsError, HistoryLockedError, HistoryVersionError
from analytics.store import Migration, latest_schema_version, open_history

from .conftest import count


def test_new_file_gets_every_table_and_records_its_version(tmp_path: Path) -> None:
    with open_history(tmp_path / "h.duckdb") as history:
        tables = {r[0] for r in history.con.execute("SHOW TABLES").fetchall()}
        versions = history.con.execute("SELECT version FROM schema_version").fetchall()
    assert {
        "pools",
        "spot_prices",
        "on_demand_prices",
        "capacity_observations",
        "interruption_events",
        "advisor_bands",
        "predictions",
        "decisions",
        "fleet_actions",
        "nodes",
        "jobs",
    } <= tables
    assert [v[0] for v in versions] == [m.version for m in store.migrations()]


def test_reopening_applies_nothing_twice_and_keeps_data(tmp_path: Path) -> None:
    path = tmp_path / "h.duckdb"
    with open_history(path) as history:
        history.con.execute(
            "INSERT INTO pools (pool, region, zone, instance_type) VALUES ('r/z/t', 'r', 'z', 't')"
        )
    with open_history(path) as history:
        assert count(history, "pools") == 1
        assert count(history, "schema_version") == len(store.migrations())


def test_an_older_file_is_upgraded_on_open(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "h.duckdb"
    with open_history(path) as history:
        history.con.execute(
            "INSERT INTO pools (pool, region, zone, instance_type) VALUES ('r/z/t', 'r', 'z', 't')"
        )
    shipped = store.migrations()
    newer = Migration(
        shipped[-1].version + 1, "add_pool_note", "ALTER TABLE pools ADD COLUMN note VARCHAR"
    )
    monkeypatch.setattr(store, "migrations", lambda: [*shipped, newer])
    with open_history(path) as history:
        assert history.schema_version == newer.version
        assert history.con.execute("SELECT pool, note FROM pools").fetchall() == [("r/z/t", None)]


def test_a_newer_file_is_refused_and_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "h.duckdb"
    with open_history(path) as history:
        history.con.execute("INSERT INTO schema_version VALUES (999, 'future', now()::TIMESTAMP)")
    before = path.read_bytes()
    with pytest.raises(HistoryVersionError, match="schema version 999.*upgrade spotfleet"):
        open_history(path)
    assert path.read_bytes() == before


def test_read_only_open_of_an_older_file_says_to_upgrade_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "h.duckdb"
    open_history(path).close()
    shipped = store.migrations()
    newer = Migration(shipped[-1].version + 1, "x", "CREATE TABLE x (a INTEGER)")
    monkeypatch.setattr(store, "migrations", lambda: [*shipped, newer])
    with pytest.raises(HistoryVersionError, match="open it once for writing"):
        open_history(path, read_only=True)


def test_a_failed_migration_leaves_the_file_at_its_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "h.duckdb"
    open_history(path).close()
    shipped = store.migrations()
    broken = Migration(
        shipped[-1].version + 1, "broken", "ALTER TABLE no_such_table ADD COLUMN a INT"
    )
    monkeypatch.setattr(store, "migrations", lambda: [*shipped, broken])
    with pytest.raises(AnalyticsError, match="broken"):
        open_history(path)
    monkeypatch.undo()
    with open_history(path) as history:
        assert history.schema_version == latest_schema_version()


def test_a_file_held_by_a_writer_process_is_refused_with_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "h.duckdb"
    open_history(path).close()
    writer = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
            import sys, time
            from analytics.store import open_history
            h = open_history({str(path)!r})
            print("ready", flush=True)
            sys.stdin.read()
        """),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "ready"
        with pytest.raises(HistoryLockedError, match="Parquet export"):
            open_history(path, read_only=True)
        with pytest.raises(duckdb.IOException):  # DuckDB itself: not even a read-only reader
            duckdb.connect(str(path), read_only=True)
    finally:
        writer.communicate("", timeout=30)
