"""The export on S3 (issue 16 item 1): written with pyarrow's S3 filesystem to moto's S3 over
HTTP, read back into DuckDB through Arrow datasets, the same snapshot rule as a folder."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from analytics.errors import AnalyticsError
from analytics.export import export_history, open_export
from analytics.export_target import S3Location, parse_export_target
from analytics.ingest.traces import ingest_traces
from analytics.queries import run_canned
from analytics.store import History, open_history

from .conftest import S3, write_trace


def cli(db: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "analytics", "--db", str(db), *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
    )


def seed(history: History, tmp_path: Path) -> None:
    folder = tmp_path / "aws-03-01-2024"
    write_trace(folder, "us-east-1a_v100_1", [1, 0, 1, 1] * 30, gap=3600)  # five days
    write_trace(folder, "us-east-1b_v100_1", [1, 1, 1, 0] * 30, gap=3600)
    ingest_traces(history, folder)


def test_export_to_an_s3_uri_writes_the_snapshot_to_s3_and_nothing_locally(
    s3: S3, tmp_path: Path
) -> None:
    db = tmp_path / "h.duckdb"
    with open_history(db) as history:
        seed(history, tmp_path)
    uri = f"s3://{s3.bucket}/history"
    done = cli(db, "export", uri, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert not (tmp_path / "s3:").exists()  # the defect: a local folder named "s3:"
    latest = json.loads(s3.read("history/_latest.json"))
    snapshot = f"history/.snapshots/{latest['snapshot']}"
    assert latest["tables"]["capacity_observations"] == 240
    assert json.loads(s3.read(f"{snapshot}/_manifest.json")) == latest
    keys = s3.keys(f"{snapshot}/capacity_observations/")
    assert sorted({k.split("/")[4] for k in keys}) == [f"day=2024-03-0{d}" for d in range(1, 6)]
    assert all(k.endswith(".parquet") for k in keys)  # no empty "folder/" marker objects
    assert s3.keys(f"{snapshot}/pools/") == [f"{snapshot}/pools/data.parquet"]
    assert f"{len(latest['tables'])} tables to {uri}" in done.stderr
    counted = cli(
        db, "--export", uri, "sql", "SELECT count(*) AS n FROM capacity_observations",
        "--format", "csv", cwd=tmp_path,
    )  # fmt: skip
    assert counted.returncode == 0, counted.stderr
    assert counted.stdout.splitlines() == ["n", "240"]


def test_the_s3_export_answers_every_query_as_the_history_does(
    s3: S3, history: History, tmp_path: Path
) -> None:
    seed(history, tmp_path)
    uri = f"s3://{s3.bucket}/team/history/"
    export_history(history, uri)
    exported = open_export(uri)
    for name in ("pool-availability", "interruption-rate", "capacity-by-hour-of-week", "savings"):
        assert run_canned(exported, name).rows == run_canned(history.con, name).rows
    shown = {r[0] for r in exported.execute("SHOW TABLES").fetchall()}
    assert shown == {r[0] for r in history.con.execute("SHOW TABLES").fetchall()} - {
        "schema_version"
    }


def test_a_new_s3_export_is_written_beside_the_old_and_retention_keeps_the_named_one(
    s3: S3, history: History, tmp_path: Path
) -> None:
    seed(history, tmp_path)
    uri = f"s3://{s3.bucket}/history"
    export_history(history, uri)
    first = json.loads(s3.read("history/_latest.json"))["snapshot"]
    history.con.execute("DELETE FROM capacity_observations WHERE pool LIKE '%1b%'")
    for _ in range(3):
        export_history(history, uri)
    # (pyarrow keeps an empty "history/.snapshots/" marker once it deletes a snapshot)
    snapshots = {k.split("/")[2] for k in s3.keys("history/.snapshots/")} - {""}
    latest = json.loads(s3.read("history/_latest.json"))["snapshot"]
    assert len(snapshots) == 2 and latest in snapshots and first not in snapshots
    assert run_canned(open_export(uri), "pool-availability").rows[0][1] == 120


def test_an_s3_prefix_without_a_finished_export_is_named_with_what_to_do(s3: S3) -> None:
    with pytest.raises(AnalyticsError, match=r"s3://spotfleet-history/none has no _latest.json"):
        open_export(f"s3://{s3.bucket}/none")


def test_a_missing_bucket_is_an_error_that_says_what_to_check(
    s3: S3, history: History, tmp_path: Path
) -> None:
    seed(history, tmp_path)
    with pytest.raises(AnalyticsError, match=r"cannot export to s3://no-such-bucket/h: .*bucket"):
        export_history(history, "s3://no-such-bucket/h")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("gs://bucket/p", "not to gs://"),
        ("s3a://bucket/p", "not to s3a://"),
        ("s3://B/p", "not an S3 bucket name"),
        ("s3:///p", "not an S3 bucket name"),
        ("s3://bucket/a//b", "empty folder"),
    ],
)
def test_a_uri_that_is_not_a_folder_nor_an_s3_prefix_is_refused(text: str, problem: str) -> None:
    with pytest.raises(AnalyticsError, match=problem):
        parse_export_target(text)


def test_an_s3_uri_keeps_its_bucket_and_prefix_and_a_folder_stays_a_folder() -> None:
    assert parse_export_target("s3://b-1.x/a/b/") == S3Location("b-1.x", "a/b")
    assert parse_export_target("s3://bucket") == S3Location("bucket", "")
    assert parse_export_target("var/export") == Path("var/export")
    assert S3Location("bucket", "a/b").uri_of("_latest.json") == "s3://bucket/a/b/_latest.json"
