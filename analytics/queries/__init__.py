"""The canned analyst queries: one ``.sql`` file each in ``analytics/queries/``, its first
comment line being its description."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from typing import Any

import duckdb

from analytics.errors import AnalyticsError, UnknownQueryError

__all__ = ["CannedQuery", "QueryResult", "canned_queries", "run_canned", "run_sql"]


@dataclass(frozen=True, slots=True)
class CannedQuery:
    name: str
    description: str
    sql: str


@dataclass(frozen=True, slots=True)
class QueryResult:
    columns: list[str]
    rows: list[tuple[Any, ...]]


def canned_queries() -> dict[str, CannedQuery]:
    found = {}
    for entry in resources.files(__name__).iterdir():
        if entry.name.endswith(".sql"):
            sql = entry.read_text()
            first = sql.splitlines()[0] if sql else ""
            description = first.removeprefix("--").strip() if first.startswith("--") else ""
            name = entry.name.removesuffix(".sql")
            found[name] = CannedQuery(name, description, sql)
    return dict(sorted(found.items()))


def run_sql(con: duckdb.DuckDBPyConnection, sql: str) -> QueryResult:
    try:
        result = con.execute(sql)
        columns = [d[0] for d in result.description or []]
        return QueryResult(columns, result.fetchall())
    except duckdb.Error as exc:
        raise AnalyticsError(f"query failed: {str(exc).splitlines()[0]}") from exc


def run_canned(con: duckdb.DuckDBPyConnection, name: str) -> QueryResult:
    queries = canned_queries()
    if name not in queries:
        raise UnknownQueryError(f"no query named {name!r}; known: {', '.join(queries)}")
    return run_sql(con, queries[name].sql)
