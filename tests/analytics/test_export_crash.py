"""SIGKILL a real export process after every one of its steps (issue 15 item 4): readers
always get one complete snapshot, whole, of one version of the history; retention never
deletes it; killed exports are swept by the next one."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from analytics.export import LATEST, MANIFEST, latest_snapshot, open_export
from analytics.store import open_history

from .conftest import write_trace

EXPORT = textwrap.dedent("""
    import sys
    from analytics.export import export_history
    from analytics.store import open_history
    with open_history(sys.argv[1]) as history:
        export_history(history, sys.argv[2])  # a folder or an s3:// URI
""")


def export(db: Path, target: Path | str, kill_after: int | None = None) -> int:
    env = dict(os.environ)
    if kill_after is not None:
        env["SPOTFLEET_EXPORT_KILL_AFTER_STEPS"] = str(kill_after)
    return subprocess.run(
        [sys.executable, "-c", EXPORT, str(db), str(target)], env=env, timeout=120
    ).returncode


def counts(target: Path) -> dict[str, int]:
    con = open_export(target)
    try:
        tables = [r[0] for r in con.execute("SHOW TABLES").fetchall()]
        return {t: con.execute(f'SELECT count(*) FROM "{t}"').fetchall()[0][0] for t in tables}
    finally:
        con.close()


def version(db: Path, tmp_path: Path, n: int) -> None:
    """History version n: one more trace and so more rows in three tables."""
    folder = tmp_path / f"aws-0{n}-01-2024"
    write_trace(folder, f"us-east-1{'abcdef'[n]}_v100_1", [1, 0, 1] * (10 * n), gap=600)
    with open_history(db) as history:
        from analytics.ingest.traces import ingest_traces

        ingest_traces(history, folder)


def test_a_killed_export_never_shows_half_a_snapshot_nor_loses_the_last_whole_one(
    tmp_path: Path,
) -> None:
    db, target = tmp_path / "history.duckdb", tmp_path / "export"
    version(db, tmp_path, 1)
    assert export(db, target) == 0
    old = counts(target)
    version(db, tmp_path, 2)
    with open_history(db) as history:
        new = {t: int(history.con.execute(f'SELECT count(*) FROM "{t}"').fetchall()[0][0])
               for t in old}  # fmt: skip
    assert new != old
    seen = set()
    step = 1
    while True:
        rc = export(db, target, kill_after=step)
        if rc == 0:
            break  # the export has fewer steps than this: it ran to the end
        assert rc == -signal.SIGKILL
        got = counts(target)
        assert got in (old, new), f"killed after step {step}: a mixed snapshot {got}"
        seen.add("new" if got != old else "old")
        assert (latest_snapshot(target) / MANIFEST).is_file()
        current = target / "current"
        assert (current.resolve() / MANIFEST).is_file()
        step += 1
    assert step > 12 and seen == {"old", "new"}
    # the run that finished swept every killed export: what is left is complete
    snapshots = list((target / ".snapshots").iterdir())
    assert all((s / MANIFEST).is_file() for s in snapshots) and len(snapshots) <= 3
    assert json.loads((target / LATEST).read_text())["tables"]["capacity_observations"] == 90
