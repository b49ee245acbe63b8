"""The AWS Spot Instance Advisor file: interruption-frequency band per region and type."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from reconciler.core.errors import MarketDataError

__all__ = ["BAND_PRIOR", "load_advisor_bands"]

# Monthly interruption frequency of each band (<5%, 5-10%, 10-15%, 15-20%, >20%), taken at
# the band's middle (25% for the open top band). Used as a prior when a pool has too little
# history for the model; ``reconciler.decide.model.advisor_prior`` turns it into a horizon
# probability.
BAND_PRIOR = (0.025, 0.075, 0.125, 0.175, 0.25)


def load_advisor_bands(
    path: Path, *, operating_system: str = "Linux"
) -> dict[tuple[str, str], int]:
    """Map (region, instance_type) to the advisor band index (0..4)."""
    try:
        raw: dict[str, Any] = json.loads(path.read_text())
        regions = raw["spot_advisor"]
    except (OSError, ValueError, KeyError) as exc:
        raise MarketDataError(
            f"{path}: not a Spot Advisor file ({exc}); expected the spot-advisor-data.json "
            "published by AWS (keys 'spot_advisor' → region → OS → type → {{'r', 's'}})"
        ) from exc
    bands: dict[tuple[str, str], int] = {}
    for region, by_os in regions.items():
        for instance_type, entry in by_os.get(operating_system, {}).items():
            bands[(region, instance_type)] = int(entry["r"])
    return bands
