"""Spot placement scores into the history: how likely AWS says each zone could take the fleet.

One ``GetSpotPlacementScores`` per fleet per run: the fleet's types, its ``max_nodes`` as the
target, one region, ``SingleAvailabilityZone`` so each score names a zone (by its ID). AWS
limits how many distinct requests an account makes in 24 hours, so a run is skipped when the
history already holds this fleet's scores younger than ``min_interval_s`` (a restarted daemon
does not ask again at once).

Bad input (``reconciler.collect.retrying``): every failed try is noted in ``fleet_actions``
(kind ``signal_failed``, with the code); a call that is throttled or refused (Throttling,
RequestLimitExceeded, AccessDenied, UnauthorizedOperation) or that reached no endpoint is
tried again after a growing pause, ``tries`` times in all. The last failure, or any other
error at once, raises ``AwsCallError``, so the job fails, the signal turns stale on /readyz
and /status, and the daemon keeps deciding on the scores it already has.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from reconciler.collect.retrying import FailedTry, RetriedOperation, call_with_retries
from reconciler.core.history.ledger import Ledger
from reconciler.core.history.placement_scores import (
    ScoreRow,
    holds_scores_since,
    record_scores,
    zone_names,
)
from reconciler.core.settings import FleetTarget

__all__ = ["OPERATION", "RETRIED_CODES", "PlacementScore", "collect_placement_scores"]

log = logging.getLogger(__name__)

OPERATION = "ec2:GetSpotPlacementScores"
RETRIED_CODES = frozenset(
    {"Throttling", "RequestLimitExceeded", "AccessDenied", "UnauthorizedOperation"}
)


@dataclass(frozen=True, slots=True)
class PlacementScore:
    """One zone's score for the fleet's request, as AWS answered it."""

    region: str
    zone_id: str
    score: int


def parse_scores(pages: Sequence[Mapping[str, Any]]) -> list[PlacementScore]:
    """The zone scores of the answer's pages; a score without a zone or outside 1-10 is
    logged and dropped (the others are kept)."""
    scores: list[PlacementScore] = []
    for page in pages:
        for entry in page.get("SpotPlacementScores") or []:
            region, zone_id, score = (
                entry.get("Region"),
                entry.get("AvailabilityZoneId"),
                entry.get("Score"),
            )
            if not (isinstance(region, str) and isinstance(zone_id, str)):
                log.warning("dropping a placement score without a region and zone: %r", entry)
                continue
            if not isinstance(score, int) or not 1 <= score <= 10:
                log.warning("dropping a placement score outside 1-10: %r", entry)
                continue
            scores.append(PlacementScore(region, zone_id, score))
    return scores


def _request(ec2: Any, fleet: FleetTarget) -> list[Mapping[str, Any]]:
    args: dict[str, Any] = {
        "InstanceTypes": list(fleet.instance_types),
        "TargetCapacity": fleet.max_nodes,
        "SingleAvailabilityZone": True,
        "RegionNames": [fleet.region],
    }
    pages: list[Mapping[str, Any]] = []
    while True:
        page = ec2.get_spot_placement_scores(**args)
        pages.append(page)
        token = page.get("NextToken")
        if not token:
            return pages
        args["NextToken"] = token


def _explain(failed: FailedTry) -> str:
    tried = (
        f"on all {failed.tries} tries"
        if failed.exhausted
        else f"({failed.message}), not worth another try"
    )
    return (
        f"{failed.code} {tried}: the placement scores are stale until a later run succeeds "
        "(AccessDenied: grant ec2:GetSpotPlacementScores)"
    )


GET_SCORES = RetriedOperation(OPERATION, RETRIED_CODES, "the scores stay as they were", _explain)


def collect_placement_scores(
    ledger: Ledger,
    ec2: Any,
    fleet: FleetTarget,
    *,
    now: datetime,
    min_interval_s: float = 0.0,
    tries: int = 3,
    first_delay_s: float = 1.0,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Ask for the fleet's placement scores and keep them; returns how many rows were new."""
    if min_interval_s > 0 and holds_scores_since(
        ledger,
        fleet.region,
        fleet.max_nodes,
        fleet.instance_types,
        now - timedelta(seconds=min_interval_s),
    ):
        return 0
    pages = call_with_retries(
        GET_SCORES,
        lambda: _request(ec2, fleet),
        ledger=ledger,
        fleet=fleet.name,
        now=now,
        tries=tries,
        first_delay_s=first_delay_s,
        sleep=sleep,
    )
    scores = [s for s in parse_scores(pages) if s.region == fleet.region]
    names = zone_names(ledger, fleet.region)
    return record_scores(
        ledger,
        [
            ScoreRow(
                region=s.region,
                zone=names.get(s.zone_id),
                zone_id=s.zone_id,
                instance_type=itype,
                target_capacity=fleet.max_nodes,
                score=s.score,
                ts=now,
                source=f"aws:{fleet.region}",
            )
            for s in scores
            for itype in fleet.instance_types
        ],
    )
