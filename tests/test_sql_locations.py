"""tools/sql_locations.py finds SQL outside the history layer and passes code without it."""

from __future__ import annotations

from pathlib import Path

from tools.sql_locations import sql_locations

CLEAN = '''"""Select the pools. WITH a docstring that says SELECT * FROM nodes, nothing is flagged."""

from reconciler.core.history.status_reads import job_counts


def counts(ledger):
    """SELECT count(*) in a docstring is prose."""
    label = "selected pools"  # SELECT in a comment is prose too
    return job_counts(ledger, "gen"), label, f"with {label}"
'''

TALKS_SQL = '''import duckdb


def spread(ledger, path, pool):
    con = duckdb.connect(str(path))
    con.execute("DELETE FROM nodes")
    with ledger.con() as c:
        c.executemany("INSERT INTO jobs VALUES (?)", [(1,)])
    rows = ledger.rows("SELECT pool FROM nodes")
    query = f"""
        WITH p AS (SELECT {pool!r} AS pool) SELECT * FROM p"""
    return ledger.history.con, rows, query
'''


def write(root: Path, name: str, text: str) -> None:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_finds_each_kind_of_sql_outside_the_history_layer(tmp_path: Path) -> None:
    write(tmp_path, "reconciler/collect/spread.py", TALKS_SQL)
    found = {(f.path, f.line, f.what) for f in sql_locations(tmp_path)}
    where = "reconciler/collect/spread.py"
    assert found == {
        (where, 5, "duckdb.connect"),
        (where, 6, "a DuckDB call .execute("),
        (where, 6, "SQL text DELETE ..."),
        (where, 7, "the ledger's connection .con()"),
        (where, 8, "a DuckDB call .executemany("),
        (where, 8, "SQL text INSERT ..."),
        (where, 9, "the ledger's raw SQL .rows("),
        (where, 9, "SQL text SELECT ..."),
        (where, 10, "SQL text WITH ..."),
        (where, 12, "the history's connection .history.con"),
    }


def test_sql_in_gpu_node_and_stacks_is_found_too(tmp_path: Path) -> None:
    write(tmp_path, "gpu_node/store.py", 'Q = "CREATE TABLE t (x INT)"\n')
    write(tmp_path, "stacks/report.py", 'def f(c):\n    return c.sql("SELECT 1")\n')
    found = sorted(str(f) for f in sql_locations(tmp_path))
    assert found == [
        "gpu_node/store.py:1: SQL text CREATE ...",
        "stacks/report.py:2: SQL text SELECT ...",
        "stacks/report.py:2: a DuckDB call .sql(",
    ]


def test_passes_clean_code_and_the_places_sql_belongs(tmp_path: Path) -> None:
    write(tmp_path, "reconciler/api/page.py", CLEAN)
    write(tmp_path, "gpu_node/worker.py", CLEAN)
    write(tmp_path, "reconciler/core/history/status_reads.py", TALKS_SQL)
    write(tmp_path, "analytics/queries.py", TALKS_SQL)  # analytics/ owns its SQL: not read
    assert sql_locations(tmp_path) == []
