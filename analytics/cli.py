"""``python -m analytics``: ingest, query, export and report on the spotfleet history."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import duckdb
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn
from rich.table import Table

from analytics.athena import DEFAULT_DATABASE, athena_ddl
from analytics.demo import first_look, seed_public_data
from analytics.errors import AnalyticsError
from analytics.export import export_history, open_export
from analytics.export_target import ExportTarget, S3Location, parse_export_target
from analytics.ingest.advisor import ingest_advisor
from analytics.ingest.common import IngestResult
from analytics.ingest.events import ingest_events
from analytics.ingest.prices import (
    ingest_on_demand_prices,
    ingest_price_snapshot,
    ingest_spot_price_pages,
    read_price_pages,
)
from analytics.ingest.traces import ingest_traces
from analytics.queries import QueryResult, canned_queries, run_canned, run_sql
from analytics.report import write_report
from analytics.store import DEFAULT_HISTORY_PATH, History, open_history

__all__ = ["PARTLY_INGESTED", "app", "main"]

# The exit status of an events ingest that kept some entries raw: the good ones went in.
PARTLY_INGESTED = 3

app = typer.Typer(
    help="Ask the spotfleet history what the spot market did and what the daemon decided.",
    no_args_is_help=True,
    add_completion=False,
)
console = Console(stderr=True, soft_wrap=True)
# Tables go to stdout; piped into a file or a CI log they keep their columns rather than wrap at 80.
out_console = Console(width=None if sys.stdout.isatty() else 160)


class Kind(StrEnum):
    prices = "prices"
    price_snapshot = "price-snapshot"
    on_demand = "on-demand"
    traces = "traces"
    advisor = "advisor"
    events = "events"


class Format(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


@dataclass
class Source:
    """Where this invocation reads: the history file, or a Parquet export of it."""

    db: Path
    export: ExportTarget | None

    @contextmanager
    def reading(self) -> Iterator[duckdb.DuckDBPyConnection]:
        if self.export is not None:
            con = open_export(self.export)
            try:
                yield con
            finally:
                con.close()
            return
        if not self.db.exists():
            raise AnalyticsError(
                f"no history at {self.db}: ingest something first, or point --db at one"
            )
        with open_history(self.db, read_only=True) as history:
            yield history.con

    @contextmanager
    def writing(self) -> Iterator[History]:
        if self.export is not None:
            raise AnalyticsError("an export is read-only: ingest into a history file (--db)")
        with open_history(self.db) as history:
            yield history


@app.callback()
def _options(
    ctx: typer.Context,
    db: Annotated[
        Path,
        typer.Option(
            help="The history file (default: $SPOTFLEET_HISTORY_DB or var/history.duckdb)."
        ),
    ] = DEFAULT_HISTORY_PATH,
    export: Annotated[
        str | None,
        typer.Option(
            help="Read a Parquet export (a folder or s3://bucket/prefix) instead of the history "
            "file (while the daemon holds it).",
            metavar="DIR|s3://BUCKET/PREFIX",
        ),
    ] = None,
) -> None:
    # Text, never a Path: Path("s3://b/p") is the local folder "s3:/b/p".
    ctx.obj = Source(db, parse_export_target(export) if export is not None else None)


def _progress() -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    )


def _ingest(history: History, kind: Kind, path: Path, start: datetime | None) -> IngestResult:
    with _progress() as progress:
        if kind is Kind.traces:
            task = progress.add_task(f"reading traces in {path}", total=None)

            def advance(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            return ingest_traces(history, path, start=start, progress=advance)
        if kind is Kind.prices:
            task = progress.add_task(f"reading price pages in {path}", total=None)

            def pages() -> Iterator[Any]:
                for page in read_price_pages(path):
                    progress.advance(task)
                    yield page

            return ingest_spot_price_pages(history, pages(), source=str(path))
        progress.add_task(f"ingesting {path}", total=None)
        if kind is Kind.price_snapshot:
            return ingest_price_snapshot(history, path)
        if kind is Kind.on_demand:
            return ingest_on_demand_prices(history, path)
        if kind is Kind.advisor:
            return ingest_advisor(history, path)
        return ingest_events(history, path)


@app.command()
def ingest(
    ctx: typer.Context,
    kind: Annotated[Kind, typer.Argument(help="What PATH holds.")],
    path: Annotated[Path, typer.Argument(help="A file, or for traces a collection folder.")],
    start: Annotated[
        datetime | None,
        typer.Option(help="traces only: when tick 0 was, if the folder name does not say."),
    ] = None,
) -> None:
    """Ingest a source into the history. Ingesting the same input twice changes nothing; a
    malformed input is refused whole, naming the file, line or key, and the problem (exit 2).
    Events are read as the daemon reads its queue: a malformed envelope is kept raw and named,
    the good ones go in (exit 3 when any was malformed).

    KIND: prices (DescribeSpotPriceHistory pages as JSON), price-snapshot (the public TSV
    archive, .zst or plain), on-demand (replay-prices.json or a list of price records), traces
    (a spot-traces collection folder), advisor (spot-advisor-data.json), events (EventBridge
    envelopes: a JSON list or one per line).
    """
    source: Source = ctx.obj
    with source.writing() as history:
        result = _ingest(history, kind, path, start)
    added = ", ".join(f"{n} {table}" for table, n in result.inserted.items())
    skipped = f", {result.skipped} of kinds the history does not keep" if result.skipped else ""
    console.print(f"{result.source}: read {result.rows_read}, added {added}{skipped}")
    for problem in result.problems:
        console.print(f"[yellow]kept raw as unparseable:[/yellow] {result.source}, {problem}")
    if result.problems:
        console.print(
            f"{len(result.problems)} of {result.rows_read} entries were not envelopes "
            "(kept raw, kind 'unparseable'); the others went in"
        )
        raise typer.Exit(PARTLY_INGESTED)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _emit(result: QueryResult, fmt: Format) -> None:
    if fmt is Format.csv:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(result.columns)
        writer.writerows([[_plain(v) for v in row] for row in result.rows])
    elif fmt is Format.json:
        records = [dict(zip(result.columns, map(_plain, row), strict=True)) for row in result.rows]
        sys.stdout.write(json.dumps(records, indent=2, default=str) + "\n")
    else:
        table = Table(*result.columns, show_lines=False)
        for row in result.rows:
            table.add_row(*(f"{v:.4g}" if isinstance(v, float) else str(v) for v in row))
        out_console.print(table)


@app.command()
def sql(
    ctx: typer.Context,
    statement: Annotated[str, typer.Argument(help="A SQL query over the history's tables.")],
    fmt: Annotated[Format, typer.Option("--format", help="Output format.")] = Format.table,
) -> None:
    """Run any SQL over the history (read-only)."""
    source: Source = ctx.obj
    with source.reading() as con:
        _emit(run_sql(con, statement), fmt)


@app.command()
def query(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Argument(help="A canned query; omit to list them.")] = None,
    fmt: Annotated[Format, typer.Option("--format", help="Output format.")] = Format.table,
) -> None:
    """Run a canned query from analytics/queries/ (omit NAME to list them)."""
    if name is None:
        for query_name, canned in canned_queries().items():
            typer.echo(f"{query_name:28} {canned.description}")
        return
    source: Source = ctx.obj
    with source.reading() as con:
        _emit(run_canned(con, name), fmt)


@app.command()
def export(
    ctx: typer.Context,
    target: Annotated[
        str,
        typer.Argument(
            help="Where to write the Parquet export: a folder or s3://bucket/prefix.",
            metavar="DIR|s3://BUCKET/PREFIX",
        ),
    ],
) -> None:
    """Export every table as hive-partitioned Parquet (by table and day), to a folder or to S3;
    a new export becomes visible whole, through one pointer written last."""
    source: Source = ctx.obj
    where = parse_export_target(target)
    with source.writing() as history:
        written = export_history(history, where)
    console.print(f"exported {sum(written.values())} rows in {len(written)} tables to {where}")


@app.command("athena-ddl")
def athena_ddl_command(
    target: Annotated[str, typer.Argument(help="An export on S3.", metavar="s3://BUCKET/PREFIX")],
    database: Annotated[
        str, typer.Option(help="The Glue database the tables go in.")
    ] = DEFAULT_DATABASE,
) -> None:
    """Print the Glue/Athena CREATE EXTERNAL TABLE statements (partition projection by day) for
    the export at s3://BUCKET/PREFIX; safe to re-run after each export (ALTER re-points)."""
    where = parse_export_target(target)
    if not isinstance(where, S3Location):
        raise AnalyticsError(
            f"{target}: athena-ddl reads an export on S3 (s3://bucket/prefix); Athena cannot "
            "read a local folder"
        )
    sys.stdout.write(athena_ddl(where, database))


@app.command()
def report(
    ctx: typer.Context,
    out: Annotated[Path, typer.Argument(help="The HTML file to write.")],
    price_types: Annotated[
        str, typer.Option(help="SQL LIKE pattern of the instance types whose prices to plot.")
    ] = "g5.%",
) -> None:
    """Write an HTML report with plots: capacity over time, prices, interruptions per week."""
    source: Source = ctx.obj
    with source.reading() as con:
        write_report(con, out, price_types=price_types)
    console.print(f"wrote {out}")


@app.command()
def demo(
    ctx: typer.Context,
    data: Annotated[Path, typer.Option(help="The public data folder.")] = Path("../shared/data"),
    out: Annotated[Path, typer.Option(help="Where the export and report go.")] = Path("var/demo"),
) -> None:
    """Seed a history from the public data (traces, advisor, prices) and show the first look:
    pools, how often each had capacity, losses, and spot against on-demand prices."""
    source: Source = ctx.obj
    with source.writing() as history:
        with console.status("seeding the history") as status:
            seeded = seed_public_data(history, data, step=lambda s: status.update(f"ingesting {s}"))
        for ingested in seeded.results:
            console.print(
                f"  ingested {ingested.source}: {ingested.rows_read} read, "
                f"{ingested.rows_inserted} new rows"
            )
        for title, answer in first_look(history):
            out_console.rule(title)
            _emit(answer, Format.table)
        written = export_history(history, out / "export")
        write_report(history.con, out / "report.html")
    exported = out / "export"
    out_console.print(
        f"\nHistory: {source.db}  ({sum(written.values())} rows)\n"
        f"Parquet export: {exported}  (python -m analytics --export {exported} query NAME)\n"
        f"Report with plots: {out / 'report.html'}\n"
        "Next: python -m analytics query   (lists the canned queries)"
    )


def main() -> None:
    try:
        app()
    except AnalyticsError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise SystemExit(2) from exc
