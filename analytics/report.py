"""An HTML report of the history with plots: the pools over time (capacity from the traces,
placement scores from a running fleet: ``analytics.availability_map``), spot prices over time,
interruptions per week, and the pool availability table. One self-contained file."""

from __future__ import annotations

import base64
import html
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import matplotlib

matplotlib.use("Agg")  # no display: render to PNG only

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np

from analytics.availability_map import AvailabilityMap, availability_maps
from analytics.queries import QueryResult, run_canned

__all__ = ["write_report"]

_MAX_PRICE_LINES = 12


def _png(figure: Any) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(figure)
    return base64.b64encode(buffer.getvalue()).decode()


def _draw_map(found: AvailabilityMap) -> str:
    index = {h: i for i, h in enumerate(found.hours)}
    rows = {p: i for i, p in enumerate(found.pools)}
    grid = np.full((len(found.pools), len(found.hours)), np.nan)
    for pool, hour, value in found.cells:
        grid[rows[pool], index[hour]] = value
    figure, axes = plt.subplots(figsize=(12, 0.35 * len(found.pools) + 1.5))
    # Each cell is an hour: the last one ends an hour after it starts (and one hour has width).
    edges = (found.hours[0], found.hours[-1] + timedelta(hours=1))
    start, end = (float(mdates.date2num(h)) for h in edges)  # type: ignore[no-untyped-call]
    image = axes.imshow(
        grid,
        aspect="auto",
        cmap="RdYlGn",
        vmin=found.low,
        vmax=found.high,
        interpolation="nearest",
        extent=(start, end, len(found.pools) - 0.5, -0.5),
    )
    axes.set_yticks(range(len(found.pools)), found.pools, fontsize=8)
    axes.xaxis_date()
    axes.set_title(found.caption)
    figure.colorbar(image, ax=axes, fraction=0.02, pad=0.01)
    return _png(figure)


def _map_sections(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str | None]]:
    """A section per map the history has rows for; one empty capacity section when none."""
    found = availability_maps(con)
    if not found:
        return [("Capacity over time", None)]
    return [(m.title, _draw_map(m)) for m in found]


def _price_lines(con: duckdb.DuckDBPyConnection, types: str) -> str | None:
    rows = con.execute(
        "WITH busiest AS (SELECT pool FROM spot_prices WHERE product = 'Linux/UNIX' "
        "AND instance_type LIKE ? GROUP BY pool ORDER BY count(*) DESC, pool LIMIT ?) "
        "SELECT pool, ts, price FROM spot_prices "
        "WHERE product = 'Linux/UNIX' AND pool IN (SELECT pool FROM busiest) ORDER BY pool, ts",
        [types, _MAX_PRICE_LINES],
    ).fetchall()
    if not rows:
        return None
    figure, axes = plt.subplots(figsize=(12, 4.5))
    for pool in sorted({r[0] for r in rows}):
        series = [(r[1], r[2]) for r in rows if r[0] == pool]
        axes.step([s[0] for s in series], [s[1] for s in series], where="post", label=pool)
    axes.set_ylabel("$ / hour")
    axes.set_title(f"Spot price over time (Linux, types like {types!r}; most-sampled pools)")
    axes.legend(fontsize=7, ncol=2)
    return _png(figure)


def _interruptions_per_week(con: duckdb.DuckDBPyConnection) -> str | None:
    rows = con.execute(
        "SELECT date_trunc('week', ts)::DATE AS week, kind, count(*) FROM interruption_events "
        "WHERE kind <> 'unparseable' GROUP BY ALL ORDER BY week, kind"
    ).fetchall()
    if not rows:
        return None
    weeks = sorted({r[0] for r in rows})
    kinds = sorted({r[1] for r in rows})
    figure, axes = plt.subplots(figsize=(12, 4))
    bottom = np.zeros(len(weeks))
    for kind in kinds:
        counts = np.array(
            [next((r[2] for r in rows if r[0] == w and r[1] == kind), 0) for w in weeks]
        )
        axes.bar([str(w) for w in weeks], counts, bottom=bottom, label=kind)
        bottom += counts
    axes.set_ylabel("events")
    axes.set_title("Interruptions per week")
    axes.legend(fontsize=8)
    return _png(figure)


def _table(result: QueryResult) -> str:
    def cell(value: object) -> str:
        return f"{value:.4f}" if isinstance(value, float) else html.escape(str(value))

    head = "".join(f"<th>{html.escape(c)}</th>" for c in result.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{cell(v)}</td>" for v in row) + "</tr>" for row in result.rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def write_report(
    con: duckdb.DuckDBPyConnection,
    out: Path,
    *,
    title: str = "spotfleet history",
    price_types: str = "g5.%",
) -> None:
    """Write the report; ``price_types`` is a SQL LIKE pattern for the price plot's types."""
    sections = []
    for heading, plot in (
        *_map_sections(con),
        ("Spot prices", _price_lines(con, price_types)),
        ("Interruptions", _interruptions_per_week(con)),
    ):
        body = (
            f'<img alt="{heading}" src="data:image/png;base64,{plot}">'
            if plot
            else '<p class="empty">No data in the history yet.</p>'
        )
        sections.append(f"<h2>{heading}</h2>{body}")
    sections.append("<h2>Pool availability</h2>" + _table(run_canned(con, "pool-availability")))
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>"
        "body{font-family:system-ui,sans-serif;margin:2em;max-width:1400px}"
        "table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:3px 8px}"
        "th{background:#f3f3f3}img{max-width:100%}.empty{color:#888}"
        f"</style></head><body><h1>{html.escape(title)}</h1><p>Generated {generated}.</p>"
        + "".join(sections)
        + "</body></html>"
    )
