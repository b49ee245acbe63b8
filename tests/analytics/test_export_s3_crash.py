"""SIGKILL a real export process writing to S3 (moto's, over HTTP) after every one of its steps
(issue 16, "bad input and faults"): a reader of the prefix always gets the previous complete
snapshot or the new one, whole; retention never deletes what ``_latest.json`` names; the next
export sweeps what a killed one left."""

from __future__ import annotations

import json
import signal
from pathlib import Path

from analytics.export import open_export
from analytics.store import open_history

from .conftest import S3
from .test_export_crash import export, version


def counts(uri: str) -> dict[str, int]:
    con = open_export(uri)
    try:
        tables = [r[0] for r in con.execute("SHOW TABLES").fetchall()]
        return {t: con.execute(f'SELECT count(*) FROM "{t}"').fetchall()[0][0] for t in tables}
    finally:
        con.close()


def test_a_killed_s3_export_leaves_the_previous_snapshot_readable(s3: S3, tmp_path: Path) -> None:
    db, uri = tmp_path / "history.duckdb", f"s3://{s3.bucket}/history"
    version(db, tmp_path, 1)
    assert export(db, uri) == 0
    old = counts(uri)
    version(db, tmp_path, 2)
    with open_history(db) as history:
        new = {t: int(history.con.execute(f'SELECT count(*) FROM "{t}"').fetchall()[0][0])
               for t in old}  # fmt: skip
    assert new != old
    seen, partial, step = set(), 0, 1
    while True:
        rc = export(db, uri, kill_after=step)
        if rc == 0:
            break  # the export has fewer steps than this: it ran to the end
        assert rc == -signal.SIGKILL
        got = counts(uri)
        assert got in (old, new), f"killed after step {step}: a mixed snapshot {got}"
        seen.add("new" if got != old else "old")
        named = json.loads(s3.read("history/_latest.json"))["snapshot"]
        snapshots = {k.split("/")[2] for k in s3.keys("history/.snapshots/")} - {""}
        assert named in snapshots
        partial = max(partial, sum(
            f"history/.snapshots/{s}/_manifest.json" not in s3.keys(f"history/.snapshots/{s}/")
            for s in snapshots
        ))  # fmt: skip
        step += 1
    assert step > 12 and seen == {"old", "new"} and partial >= 1
    # the run that finished swept every killed export: what is left is complete
    snapshots = {k.split("/")[2] for k in s3.keys("history/.snapshots/")} - {""}
    assert 1 <= len(snapshots) <= 2
    keys = s3.keys()
    assert all(f"history/.snapshots/{s}/_manifest.json" in keys for s in snapshots)
    assert json.loads(s3.read("history/_latest.json"))["tables"]["capacity_observations"] == 90
