"""The advisor collector's reads and writes of ``advisor_bands``: how many bands the history
holds, and a newer Spot Advisor file's bands restated over them."""

from __future__ import annotations

import pyarrow as pa

from analytics.ingest.common import transaction, upsert
from reconciler.core.history.ledger import Ledger

__all__ = ["advisor_bands_held", "record_advisor_bands"]


def advisor_bands_held(ledger: Ledger) -> int:
    """How many (region, OS, type) bands the history holds."""
    return int(ledger._rows("SELECT count(*) FROM advisor_bands")[0][0])


def record_advisor_bands(ledger: Ledger, bands: pa.Table) -> int:
    """Restate the bands of ``bands`` (``analytics.ingest.advisor.advisor_table``'s shape) in
    one transaction; the bands it does not name stay as they were. Returns how many
    (region, OS, type) were new to the history."""
    with ledger._con() as con, transaction(con):
        before = con.execute("SELECT count(*) FROM advisor_bands").fetchall()[0][0]
        upsert(con, "advisor_bands", bands)
        after = con.execute("SELECT count(*) FROM advisor_bands").fetchall()[0][0]
    return int(after - before)
