"""Writing batches: one transaction per batch, only rows whose natural key is new."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from analytics.errors import IngestError
from analytics.store import first_row

__all__ = ["IngestResult", "insert_new", "load_json", "read_text", "transaction", "upsert"]


def read_text(path: Path) -> str:
    """The file as UTF-8; a file that is missing or not UTF-8 is refused naming the line."""
    source = str(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise IngestError(source, "", "no such file") from exc
    except OSError as exc:
        raise IngestError(source, "", f"cannot be read ({exc.strerror})") from exc
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise IngestError(
            source, f"line {line}", f"is not UTF-8 text (byte {exc.start}: {exc.reason})"
        ) from exc


def load_json(text: str, source: str, where: str = "") -> Any:
    """Parse JSON, refusing it with one line that names the file (and line): never a
    traceback, however deep the nesting."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        at = where or f"line {exc.lineno}"
        raise IngestError(source, at, f"is not JSON ({exc.msg})") from exc
    except RecursionError as exc:
        raise IngestError(source, where, "is not the expected JSON: nested too deeply") from exc


@dataclass(frozen=True, slots=True)
class IngestResult:
    """What one ingest read and wrote; ``inserted`` counts new rows per table."""

    source: str
    rows_read: int
    inserted: Mapping[str, int] = field(default_factory=dict)
    skipped: int = 0  # well-formed input that names nothing the history keeps (unknown event kinds)
    problems: tuple[str, ...] = ()  # entries kept raw rather than parsed, each "where: what"

    @property
    def rows_inserted(self) -> int:
        return sum(self.inserted.values())


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    con.execute("BEGIN TRANSACTION")
    try:
        yield
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def insert_new(
    con: duckdb.DuckDBPyConnection,
    table: str,
    rows: pa.Table | str,
    key: Sequence[str],
    columns: Sequence[str] | None = None,
    *,
    time_column: str | None = None,
) -> int:
    """Insert the rows whose key ``table`` lacks (one of any duplicates within ``rows``).

    ``rows`` is an Arrow table, or the name of a relation already in the connection (then
    ``columns`` says which of its columns to write). An anti-join rather than a primary-key
    index: at tens of millions of rows the index is several times slower to maintain. When the
    key holds ``time_column``, only the table's rows within the batch's time range are joined:
    time series arrive roughly in order, so a new batch then costs little however large the
    table (DuckDB skips the rest by its min/max zone maps).
    """
    if isinstance(rows, pa.Table):
        if rows.num_rows == 0:
            return 0
        view = f"_incoming_{table}"
        con.register(view, rows)
        try:
            return insert_new(
                con, table, view, key, columns or rows.column_names, time_column=time_column
            )
        finally:
            con.unregister(view)
    if columns is None:
        raise ValueError("columns are required when rows names a relation")
    names = ", ".join(_quote(c) for c in columns)
    keys = ", ".join(_quote(k) for k in key)
    existing, params = _quote(table), []
    if time_column is not None:
        bounds = first_row(con, f"SELECT min({time_column}), max({time_column}) FROM {rows}")
        if bounds is None or bounds[0] is None:
            return 0
        existing = (
            f"(SELECT {keys} FROM {_quote(table)} WHERE {_quote(time_column)} BETWEEN ? AND ?)"
        )
        params = [bounds[0], bounds[1]]
    # Distinct 64-bit hashes prove distinct keys, and counting them is several times cheaper
    # than de-duplicating; only a batch whose hashes repeat pays for the exact GROUP BY.
    counts = first_row(con, f"SELECT count(*), count(DISTINCT hash({keys})) FROM {rows}")
    incoming = rows
    if counts is None or counts[0] != counts[1]:
        others = [c for c in columns if c not in key]
        one_per_key = ", ".join(
            [*(_quote(k) for k in key), *(f"any_value({_quote(c)}) AS {_quote(c)}" for c in others)]
        )
        incoming = f"(SELECT {one_per_key} FROM {rows} GROUP BY {keys})"
    result = first_row(
        con,
        f"INSERT INTO {_quote(table)} ({names}) "
        f"SELECT {names} FROM {incoming} AS incoming ANTI JOIN {existing} AS known USING ({keys})",
        params,
    )
    return int(result[0]) if result else 0


def upsert(con: duckdb.DuckDBPyConnection, table: str, rows: pa.Table) -> int:
    """Insert or replace by the table's primary key (for facts that are restated, not appended)."""
    if rows.num_rows == 0:
        return 0
    columns = ", ".join(_quote(c) for c in rows.column_names)
    view = f"_incoming_{table}"
    con.register(view, rows)
    try:
        con.execute(f"INSERT OR REPLACE INTO {_quote(table)} ({columns}) SELECT * FROM {view}")
    finally:
        con.unregister(view)
    return int(rows.num_rows)
