"""The Spot Advisor's interruption bands into the history, refreshed daily from a file or URL.

The source is the public ``spot-advisor-data.json`` (AWS publishes it at
https://spot-bid-advisor.s3.amazonaws.com/spot-advisor-data.json; spotfleet ships a copy in
``../shared/data``): ``ranges`` (the five bands) and ``spot_advisor`` (region → OS → type →
``{"s": savings %, "r": band}``). The setting ``advisor_source`` names a file path or an
http(s) URL.

Bad input: a file that is not that JSON (malformed, cut short, a band outside ``ranges``, no
band at all, an HTTP error) is refused whole with the reason, nothing is written and the
bands the history holds stay; so is a file with fewer than half the bands held, which is
what a truncated download that still parses looks like. The refusal is noted in
``fleet_actions`` (kind ``signal_failed``) and raised, so the job fails and its signal turns
stale on /readyz and /status. A newer file restates the band of every (region, OS, type) it
names (``analytics.ingest.advisor``); reading the same file again changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import httpx
import pyarrow as pa

from analytics.errors import IngestError
from analytics.ingest.advisor import advisor_table
from analytics.ingest.common import load_json
from reconciler.core.errors import MarketDataError
from reconciler.core.history.advisor_writes import advisor_bands_held, record_advisor_bands
from reconciler.core.history.ledger import Ledger

__all__ = ["TARGET", "AdvisorRefresh", "collect_advisor_bands", "parse_advisor", "read_source"]

TARGET = "spot-advisor"  # fleet_actions.target of a refused refresh
_MAX_BYTES = 64 * 1024 * 1024  # the published file is about 1 MB
_TIMEOUT_S = 30.0


@dataclass(frozen=True, slots=True)
class AdvisorRefresh:
    source: str
    bands: int  # in the file
    new: int  # (region, OS, type) the history did not hold before


def is_url(source: str) -> bool:
    return source.startswith(("http://", "https://"))


def read_source(source: str) -> str:
    """The text at ``source`` (a path, or an http(s) URL answered 200)."""
    if is_url(source):
        try:
            response = httpx.get(source, timeout=_TIMEOUT_S, follow_redirects=True)
        except httpx.HTTPError as exc:
            raise MarketDataError(
                f"{source}: could not fetch the Spot Advisor file ({exc})"
            ) from exc
        if response.status_code != 200:
            raise MarketDataError(
                f"{source}: answered HTTP {response.status_code}, not the Spot Advisor file"
            )
        if len(response.content) > _MAX_BYTES:
            raise MarketDataError(f"{source}: over {_MAX_BYTES} bytes, not the Spot Advisor file")
        return response.text
    path = Path(source)
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise MarketDataError(
            f"{source}: cannot read the Spot Advisor file ({exc}); set advisor_source to the "
            "file or to https://spot-bid-advisor.s3.amazonaws.com/spot-advisor-data.json"
        ) from exc


def parse_advisor(text: str, source: str) -> pa.Table:
    """The file's bands, validated whole (``analytics.ingest.advisor.advisor_table``)."""
    try:
        table = advisor_table(load_json(text, source), source=source)
    except IngestError as exc:
        raise MarketDataError(
            f"refused the Spot Advisor file: {exc}; the bands held are kept"
        ) from exc
    if table.num_rows == 0:
        raise MarketDataError(
            f"refused the Spot Advisor file {source}: it names no band; the bands held are kept"
        )
    return table


def collect_advisor_bands(ledger: Ledger, source: str, *, now: datetime) -> AdvisorRefresh:
    """Read, validate and restate the advisor bands; a refusal is noted and raised."""
    try:
        table = parse_advisor(read_source(source), source)
        held = advisor_bands_held(ledger)
        if table.num_rows * 2 < held:
            raise MarketDataError(
                f"refused the Spot Advisor file {source}: {table.num_rows} bands where the "
                f"history holds {held} (cut short?); the bands held are kept"
            )
    except MarketDataError as exc:
        ledger.note(
            "signal_failed", fleet="*", now=now, status="failed", target=TARGET, detail=str(exc)
        )
        raise
    return AdvisorRefresh(source, table.num_rows, record_advisor_bands(ledger, table))
