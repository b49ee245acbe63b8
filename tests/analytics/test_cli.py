from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from .conftest import write_trace


def cli(db: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "analytics", "--db", str(db), *args],
        capture_output=True,
        text=True,
        check=check,
    )


def test_ingest_query_in_every_format_export_and_report(tmp_path: Path) -> None:
    db = tmp_path / "h.duckdb"
    folder = tmp_path / "aws-03-01-2024"
    write_trace(folder, "us-east-1a_v100_1", [1, 0, 1, 1], gap=3600)
    first = cli(db, "ingest", "traces", str(folder))
    assert "added 1 pools, 4 capacity_observations, 1 interruption_events" in first.stderr
    assert (
        "added 0 pools, 0 capacity_observations, 0 interruption_events"
        in cli(db, "ingest", "traces", str(folder)).stderr
    )
    csv_out = cli(db, "query", "pool-availability", "--format", "csv").stdout.splitlines()
    assert csv_out[0].startswith("pool,samples,available_fraction")
    records = json.loads(cli(db, "query", "pool-availability", "--format", "json").stdout)
    assert (
        records[0]["available_fraction"] == 0.75
        and records[0]["first_seen"] == "2024-03-01T00:00:00"
    )
    assert (
        "0.75"
        in cli(db, "sql", "SELECT avg((capacity > 0)::INT) AS a FROM capacity_observations").stdout
    )
    listing = cli(db, "query").stdout
    assert re.search(r"^pool-availability\s+How often", listing, re.M)
    cli(db, "export", str(tmp_path / "export"))
    assert (
        cli(
            db,
            "--export",
            str(tmp_path / "export"),
            "query",
            "pool-availability",
            "--format",
            "csv",
        ).stdout.splitlines()
        == csv_out
    )
    cli(db, "report", str(tmp_path / "report.html"))
    page = (tmp_path / "report.html").read_text()
    assert page.count("data:image/png;base64,") == 2  # capacity and interruptions; no prices yet
    assert "No data in the history yet." in page


def test_bad_input_exits_2_with_the_file_and_problem(tmp_path: Path) -> None:
    bad = tmp_path / "advisor.json"
    bad.write_text("[]")
    result = cli(tmp_path / "h.duckdb", "ingest", "advisor", str(bad), check=False)
    assert result.returncode == 2
    assert f"{bad}: expected an object" in result.stderr.replace("\n", "")
    missing = cli(tmp_path / "none.duckdb", "query", "pool-availability", check=False)
    assert missing.returncode == 2 and "no history at" in missing.stderr


def test_demo_seeds_the_public_data_and_shows_the_first_look(
    tmp_path: Path, public_data: Path
) -> None:
    result = cli(
        tmp_path / "h.duckdb", "demo", "--data", str(public_data), "--out", str(tmp_path / "out")
    )
    assert "us-east-1/us-east-1a/p3.2xlarge" in result.stdout
    assert "g5.xlarge" in result.stdout
    assert (tmp_path / "out" / "report.html").stat().st_size > 10_000
    assert (tmp_path / "out" / "export" / "capacity_observations").is_dir()
