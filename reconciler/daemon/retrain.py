"""The retrain job: fit a candidate, keep it in the registry, promote it only if it earns it."""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from reconciler.core.history.ledger import Ledger
from reconciler.core.settings import DaemonSettings
from reconciler.daemon.training import fit_candidate
from reconciler.decide.model_registry import promote, register
from reconciler.decide.model_state import ModelState
from reconciler.decide.signal_model import PriorAndOwn
from reconciler.replay.promotion_replay import ReplayPath

__all__ = ["Retrained", "retrain_candidate"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Retrained:
    promoted: PriorAndOwn | None  # the model that decides from now on; None: the same one
    state: ModelState


def retrain_candidate(
    ledger: Ledger,
    settings: DaemonSettings,
    path: Path,
    *,
    live: PriorAndOwn | None,
    state: ModelState,
    now: datetime,
) -> Retrained:
    """Fit a candidate on the history before the last ``model_evaluation_s``, keep it in the
    registry at ``path`` beside the others, and let it decide only if it beats the live model
    and the baseline on those days, on the scores and replayed through the decision path with
    each fleet's pools and the daemon's settings; otherwise what decided keeps deciding. A fit
    that fails (too little history yet) raises, and the model in use stays."""
    pools = sorted({pool for fleet in settings.fleets for pool in fleet.pools()})
    with ledger.reader() as con:
        model, comparison = fit_candidate(
            con,
            pools,
            now=now,
            lookback_s=settings.training_lookback_s,
            grid_s=settings.grid_s,
            evaluation_s=settings.model_evaluation_s,
            live=live,
            live_id=state.model_id,
            fleets=[fleet.pools() for fleet in settings.fleets],
            replay_path=ReplayPath(
                cold_start_s=settings.cold_start_s,
                safety=settings.safety,
                score_every_s=settings.cadences.placement_scores_s,
            ),
        )
    entry = register(path, model, comparison, created_at=now)
    state = dataclasses.replace(state, candidate_id=entry.model_id, candidate=comparison)
    promoted = None
    if comparison.promoted:
        pointer = promote(path, entry.model_id, at=now, reason=comparison.reason)
        promoted = model
        state = dataclasses.replace(
            state,
            model_id=entry.model_id,
            reason=comparison.reason,
            promoted_at=pointer.promoted_at,
            comparison=comparison,
        )
    ledger.note(
        "model_promoted" if comparison.promoted else "model_kept",
        fleet="*",
        now=now,
        status="applied",
        target=entry.model_id,
        detail=comparison.reason[:2000],
    )
    log.info("retrain: candidate %s %s", entry.model_id, comparison.reason)
    return Retrained(promoted, state)
