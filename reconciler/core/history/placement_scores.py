"""The placement-score collector's reads and writes of ``placement_scores``, and the zone
names it gives the scores (AWS names a zone by its ID there)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from analytics.ingest.common import transaction
from reconciler.core.history.ledger import Ledger, naive

__all__ = ["ScoreRow", "holds_scores_since", "record_scores", "zone_names"]


@dataclass(frozen=True, slots=True)
class ScoreRow:
    """One zone's score for one instance type of a fleet's request."""

    region: str
    zone: str | None  # the zone's name, where the history knows it
    zone_id: str
    instance_type: str
    target_capacity: int
    score: int
    ts: datetime
    source: str


def zone_names(ledger: Ledger, region: str) -> dict[str, str]:
    """zone ID -> zone name in ``region``, as the pools and prices recorded them."""
    # A pool first stored without its ID keeps it NULL, so the prices are read too; a zone
    # named by its ID (the price archives) names nothing.
    rows = ledger._rows(
        "SELECT zone_id, any_value(zone) FROM (SELECT zone, zone_id, region FROM pools "
        "UNION ALL SELECT zone, zone_id, region FROM spot_prices) "
        "WHERE region = ? AND zone_id IS NOT NULL AND zone <> zone_id GROUP BY zone_id",
        [region],
    )
    return {str(zone_id): str(zone) for zone_id, zone in rows}


def holds_scores_since(
    ledger: Ledger,
    region: str,
    target_capacity: int,
    instance_types: Sequence[str],
    since: datetime,
) -> bool:
    """Whether the history holds scores of this request (region, target, any of the types)
    younger than ``since``."""
    rows = ledger._rows(
        "SELECT count(*) FROM placement_scores WHERE region = ? AND target_capacity = ? "
        "AND list_contains(?, instance_type) AND ts > ?",
        [region, target_capacity, list(instance_types), naive(since)],
    )
    return bool(rows[0][0])


def record_scores(ledger: Ledger, scores: Sequence[ScoreRow]) -> int:
    """Keep the scores (one already held is left as it was); returns how many were new."""
    if not scores:
        return 0
    rows = [
        (s.region, s.zone, s.zone_id, s.instance_type, s.target_capacity, s.score,
         naive(s.ts), s.source)
        for s in scores
    ]  # fmt: skip
    with ledger._con() as con, transaction(con):
        before = con.execute("SELECT count(*) FROM placement_scores").fetchall()[0][0]
        con.executemany(
            "INSERT INTO placement_scores VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            rows,
        )
        after = con.execute("SELECT count(*) FROM placement_scores").fetchall()[0][0]
    return int(after - before)
