"""Spot prices as one source recorded them (the embedded default builds its market on the
public snapshot's)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from analytics.store import History

__all__ = ["SpotQuote", "linux_spot_prices_from"]


@dataclass(frozen=True, slots=True)
class SpotQuote:
    region: str
    zone: str
    instance_type: str
    price: float  # $/h


def linux_spot_prices_from(
    history: History, source: str, instance_types: Sequence[str]
) -> list[SpotQuote]:
    """The Linux spot prices of ``instance_types`` that ``source`` gave, as the history holds
    them."""
    rows = history.con.execute(
        "SELECT region, zone, instance_type, price FROM spot_prices "
        "WHERE source = ? AND product = 'Linux/UNIX' AND list_contains(?, instance_type)",
        [source, list(instance_types)],
    ).fetchall()
    return [SpotQuote(str(r), str(z), str(t), float(p)) for r, z, t, p in rows]
