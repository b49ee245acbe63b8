"""Seed a history from the public data and show what an analyst wants first: the pools, how
often each had capacity, how often it was lost, and what spot costs against on-demand."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from analytics.errors import AnalyticsError
from analytics.ingest.advisor import ingest_advisor
from analytics.ingest.common import IngestResult
from analytics.ingest.prices import ingest_on_demand_prices, ingest_price_snapshot
from analytics.ingest.traces import ingest_traces
from analytics.queries import QueryResult, run_sql
from analytics.store import History

__all__ = ["FIRST_LOOK", "SHIPPED_ON_DEMAND", "SeedReport", "first_look", "seed_public_data"]

SHIPPED_ON_DEMAND = Path(__file__).resolve().parent.parent / "data" / "on-demand-g5.json"


@dataclass
class SeedReport:
    results: list[IngestResult] = field(default_factory=list)


def _collections(data: Path) -> list[Path]:
    traces = data / "spot-traces"
    return sorted({p.parent for p in traces.glob("**/*.json")})


def seed_public_data(
    history: History, data: Path, *, step: Callable[[str], None] | None = None
) -> SeedReport:
    """Ingest every trace collection, the advisor, the price snapshot and on-demand prices."""
    if not (data / "spot-traces").is_dir():
        raise AnalyticsError(
            f"{data} does not hold the public data (no spot-traces/ folder): "
            "pass the folder with --data (it is ../shared/data beside the repository)"
        )
    report = SeedReport()
    sources: list[tuple[str, Callable[[], IngestResult]]] = [
        (f"traces {c.relative_to(data)}", lambda c=c: ingest_traces(history, c))  # type: ignore[misc]
        for c in _collections(data)
    ]
    sources += [
        ("spot advisor", lambda: ingest_advisor(history, data / "spot-advisor-data.json")),
        (
            "spot price snapshot",
            lambda: ingest_price_snapshot(history, data / "spot-prices-2022-05-31.tsv.zst"),
        ),
        ("on-demand prices", lambda: ingest_on_demand_prices(history, data / "replay-prices.json")),
        ("g5 on-demand prices", lambda: ingest_on_demand_prices(history, SHIPPED_ON_DEMAND)),
    ]
    for label, ingest in sources:
        if step:
            step(label)
        report.results.append(ingest())
    return report


# What an analyst asks first, in order: (title, SQL).
FIRST_LOOK: tuple[tuple[str, str], ...] = (
    (
        "Pools in the capacity traces: how often each had spot capacity, and how often it was lost",
        """
        WITH held AS (
            SELECT pool, min(ts)::DATE AS since, count(*) AS samples,
                   avg((capacity > 0)::INTEGER) AS available_fraction,
                   sum(interval_s) FILTER (WHERE capacity > 0) / 86400.0 AS days_available
            FROM capacity_observations GROUP BY pool
        ),
        losses AS (SELECT pool, count(*) AS losses FROM interruption_events GROUP BY pool)
        SELECT h.pool, p.accelerator, h.since, h.samples, h.available_fraction,
               coalesce(l.losses, 0) AS losses,
               coalesce(l.losses, 0) / nullif(h.days_available, 0) AS losses_per_day_available
        FROM held h JOIN pools p USING (pool) LEFT JOIN losses l USING (pool)
        ORDER BY h.since, h.pool
        """,
    ),
    (
        "g5 spot prices on 2022-05-31 (Linux): median by region and type, against on-demand",
        """
        WITH spot AS (
            SELECT region, instance_type, count(DISTINCT zone) AS zones,
                   median(price) AS spot_median
            FROM spot_prices
            WHERE instance_type IN ('g5.xlarge', 'g5.2xlarge') AND product = 'Linux/UNIX'
            GROUP BY ALL
        )
        SELECT s.region, s.instance_type, s.zones, s.spot_median, o.price AS on_demand,
               s.spot_median / o.price AS spot_fraction, a.band_label AS advisor_interruptions
        FROM spot s
        LEFT JOIN on_demand_prices o ON o.instance_type = s.instance_type
             AND o.region = 'us-east-1' AND o.operating_system = 'Linux'
        LEFT JOIN advisor_bands a ON a.region = s.region AND a.instance_type = s.instance_type
             AND a.operating_system = 'Linux'
        ORDER BY s.region, s.instance_type
        """,
    ),
)


def first_look(history: History) -> list[tuple[str, QueryResult]]:
    return [(title, run_sql(history.con, sql)) for title, sql in FIRST_LOOK]
