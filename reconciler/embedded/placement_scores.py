"""Spot placement scores as the embedded default's EC2 gives them (moto has none).

AWS does not publish how it scores; here a zone's score says how much of the request its free
spot capacity could take now: ``free`` is the replayed capacity minus the spot nodes held (not
warned) summed over the requested types in that zone, mapped by the one rule the backtest's
production signals use too (``reconciler.core.placement_score``):

    score = clamp(1 + round(9 * free / target), 1, 10)

so no room scores 1, room for the whole target scores 10. Zones are named by a made-up but
stable zone ID (``us-west-2b`` -> ``usw2-az2``), as AWS names them by ID in this answer.
"""

from __future__ import annotations

from analytics.pools import region_code
from reconciler.core.placement_score import score_for

__all__ = ["local_zone_id", "score_for"]


def local_zone_id(zone: str) -> str:
    """The local cloud's zone ID for a zone name: the region's code and the zone letter's place."""
    region, letter = zone[:-1], zone[-1]
    if not letter.isalpha():
        raise ValueError(f"{zone!r} is not a zone name like us-west-2a")
    return f"{region_code(region)}-az{ord(letter) - ord('a') + 1}"
