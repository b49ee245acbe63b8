"""A candidate model against the live one and the baseline, on days none of them fitted.

Pure: market series (or fleet signals) and models in, scores and a verdict out.
``evaluate_on_signals`` is the daemon's: the fleet's signals, labelled by its own nodes
(``fleet_loss_labels``: warned or interrupted within H, a launch refused), the candidate and
the live model each the prior blended with an own model (``PriorAndOwn``).

The window is the most recent ticks of the series, ``[start, end)``; a label there needs its
whole horizon inside the window, so the last horizon of it is unlabelled. The candidate was
fitted on ticks before ``start`` only (``train_model(series, end=start)``, or ``train_own``
likewise), and the live model was fitted before it was promoted, so neither saw the window
unless the live model's training window reaches into it (``live_saw_window`` then says so:
the comparison favours the live model, never the candidate).

A candidate beats a rival when its AUC is higher and its Brier score no higher. It is
promoted only when it beats both the live model (when there is one) and the baseline; a
window with no loss (or nothing but losses) cannot rank anything, so nothing is promoted on
it.

Ranking is not serving. The daemon also replays the window through the executed decision
path (``reconciler.replay.promotion_replay``: the daemon's own controller deciding with each
of the three over the market the fleet saw) and hands the figures in as ``Replayed``; then the
candidate is promoted only when, besides its AUC and Brier, its replayed availability is at
least each rival's with a cost ratio at most ``REPLAY_COST_SLACK`` (0.02) above the rival's: a
model that ranks better but serves worse, or serves as well only by spending much more, does
not decide. Without replayed figures (``evaluate_candidate`` on trace series) the scores
alone judge.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import numpy as np
import numpy.typing as npt

from reconciler.core.market import MarketSeries
from reconciler.core.signals import FleetSignals
from reconciler.decide.baselines import availability_baseline
from reconciler.decide.features import compute_features
from reconciler.decide.labels import loss_labels
from reconciler.decide.model import TrainedModel
from reconciler.decide.scores import auc, brier
from reconciler.decide.signal_features import compute_signal_features
from reconciler.decide.signal_labels import fleet_loss_labels
from reconciler.decide.signal_model import PriorAndOwn

__all__ = [
    "REPLAY_COST_SLACK",
    "Comparison",
    "Replayed",
    "ReplayedFigures",
    "Scores",
    "compare",
    "evaluate_candidate",
    "evaluate_on_signals",
    "evaluation_start",
    "score",
    "with_replay",
]


@dataclass(frozen=True, slots=True)
class Scores:
    auc: float  # NaN when the window holds no loss, or nothing else
    brier: float
    rows: int  # labelled pool-ticks scored
    losses: int

    def beats(self, other: Scores) -> bool:
        return self.auc > other.auc and self.brier <= other.brier


@dataclass(frozen=True, slots=True)
class ReplayedFigures:
    """One decider's replay of the judging window (REPLAY.md's figures, pooled over fleets)."""

    availability: float  # the share of ticks with K nodes ready
    cost_ratio: float  # cost over K on-demand nodes for the window

    def serves_as_well_as(self, other: ReplayedFigures) -> bool:
        return (
            self.availability >= other.availability - _EPS
            and self.cost_ratio <= other.cost_ratio + REPLAY_COST_SLACK + _EPS
        )


@dataclass(frozen=True, slots=True)
class Replayed:
    """The judging window replayed through the daemon's controller with each decider."""

    candidate: ReplayedFigures
    baseline: ReplayedFigures  # planner_no_model: the 24-hour availability baseline decides
    live: ReplayedFigures | None  # None: no model was deciding
    node_ticks: int  # ticks x K summed over the fleets replayed: what the figures weigh


@dataclass(frozen=True, slots=True)
class Comparison:
    window_from: str  # ISO 8601, UTC
    window_until: str
    candidate: Scores
    baseline: Scores
    live: Scores | None  # None: no model was deciding (the baseline was)
    live_id: str | None
    live_saw_window: bool
    promoted: bool
    reason: str
    replayed: Replayed | None = None  # None: judged on the scores alone (or an older artifact)


def score(y: npt.NDArray[np.float64], p: npt.NDArray[np.float64]) -> Scores:
    losses = int(y.sum())
    return Scores(
        auc=auc(y, p) if 0 < losses < y.size else math.nan,
        brier=brier(y, p) if y.size else math.nan,
        rows=int(y.size),
        losses=losses,
    )


MIN_JUDGED_CLASS = 10  # losses, and pool-ticks without one, a judging window needs (as a fit)
# How much more of the on-demand bill a candidate may spend than a rival in the replay and
# still count as serving as well: two hundredths, about the cost of one node in fifty.
REPLAY_COST_SLACK = 0.02
_EPS = 1e-9  # float noise: the same ticks served read as equal


def _replay_line(replayed: Replayed) -> str:
    def one(name: str, f: ReplayedFigures) -> str:
        return f"{name} {f.availability:.4f} / {f.cost_ratio:.4f}"

    parts = [one("candidate", replayed.candidate), one("baseline", replayed.baseline)]
    if replayed.live is not None:
        parts.append(one("live model", replayed.live))
    return "replayed availability / cost ratio: " + ", ".join(parts)


def compare(
    candidate: Scores,
    baseline: Scores,
    live: Scores | None,
    replayed: Replayed | None = None,
) -> tuple[bool, str]:
    """Promote or not, and why in one line (the rule: the module docstring)."""
    if math.isnan(candidate.auc):
        return False, (
            f"not promoted: the window's {candidate.rows} pool-ticks hold {candidate.losses} "
            "losses, which ranks nothing"
        )
    losses, others = candidate.losses, candidate.rows - candidate.losses
    if min(losses, others) < MIN_JUDGED_CLASS:
        return False, (
            f"not promoted: the window's {candidate.rows} pool-ticks hold {losses} losses and "
            f"{others} others, too few to judge (at least {MIN_JUDGED_CLASS} of each); what "
            "decides keeps deciding"
        )
    if candidate.auc <= 0.5:
        # Beating a baseline that ranks no better than chance is no evidence of a model.
        return False, (
            f"not promoted: candidate AUC {candidate.auc:.3f} on the window's "
            f"{candidate.rows} pool-ticks ranks no better than chance; what decides keeps "
            "deciding"
        )
    rivals = [("baseline", baseline)] + ([("live model", live)] if live else [])
    figures = f"candidate AUC {candidate.auc:.3f} Brier {candidate.brier:.4f}"
    lost = [name for name, s in rivals if not candidate.beats(s)]
    against = "; ".join(f"{name} AUC {s.auc:.3f} Brier {s.brier:.4f}" for name, s in rivals)
    served = "" if replayed is None else f"; {_replay_line(replayed)}"
    if lost:
        beaten = " and the ".join(lost)
        return False, f"not promoted: {figures} does not beat the {beaten} ({against}{served})"
    beaten = " and the ".join(n for n, _ in rivals)
    if replayed is not None:
        replay_rivals = [("baseline", replayed.baseline)] + (
            [("live model", replayed.live)] if live and replayed.live else []
        )
        worse = [n for n, f in replay_rivals if not replayed.candidate.serves_as_well_as(f)]
        if worse:
            return False, (
                f"not promoted: {figures} beats the {beaten} on the scores but its replay of "
                f"the window serves worse than the {' and the '.join(worse)} (availability at "
                f"least the rival's, cost ratio at most {REPLAY_COST_SLACK:.2f} above it: "
                f"{_replay_line(replayed)}; {against})"
            )
        return True, (
            f"promoted: {figures} beats the {beaten} and replays the window at least as well "
            f"({against}; {_replay_line(replayed)})"
        )
    return True, f"promoted: {figures} beats the {beaten} ({against})"


def _iso(series: MarketSeries | FleetSignals, tick: int) -> str:
    return datetime.fromtimestamp(series.t0 + tick * series.gap_seconds, tz=UTC).isoformat()


def evaluate_candidate(
    series: MarketSeries,
    start: int,
    *,
    candidate: TrainedModel,
    live: TrainedModel | None,
    live_id: str | None = None,
) -> Comparison:
    """Score all three on ticks ``start..`` of ``series`` at the candidate's horizon."""
    end = series.n_ticks
    ticks = np.arange(start, end, dtype=np.int64)
    feats = compute_features(series, ticks)
    labels = loss_labels(
        series.capacity,
        ticks,
        horizon_seconds=candidate.horizon_s,
        gap_seconds=series.gap_seconds,
        known_until=end,
        warnings=series.warnings,
    )
    mask = ~np.isnan(labels)
    x, y = feats[mask], labels[mask]
    cand = score(y, candidate.predict_features(x))
    base = score(y, availability_baseline(x))
    live_scores = score(y, live.predict_features(x)) if live is not None else None
    promoted, reason = compare(cand, base, live_scores)
    saw = False
    if live is not None:
        until = str(live.meta.get("training_window", {}).get("until", ""))
        saw = bool(until) and until > _iso(series, start)
    return Comparison(
        window_from=_iso(series, start),
        window_until=_iso(series, end),
        candidate=cand,
        baseline=base,
        live=live_scores,
        live_id=live_id if live is not None else None,
        live_saw_window=saw,
        promoted=promoted,
        reason=reason,
    )


def _trained_until(model: PriorAndOwn) -> str:
    """The latest training window's end of the blend's parts (the prior's is public traces:
    never the fleet's days, so only the own model's counts)."""
    if model.own is None:
        return ""
    return str(model.own.meta.get("training_window", {}).get("until", ""))


def evaluation_start(signals: FleetSignals, evaluation_s: float) -> int:
    """The first tick of the window a candidate is judged on: the most recent ``evaluation_s``,
    or, while the fleet's own evidence (ticks from its first node held or launch tried) spans
    less than three such windows, its last third, so the candidate has own ticks to fit on.
    0: there is nothing to fit before the window."""
    n = signals.n_ticks
    window = max(1, round(evaluation_s / signals.gap_seconds))
    own = np.flatnonzero((signals.held.sum(axis=0) > 0) | (signals.launches_tried.sum(axis=0) > 0))
    if own.size:
        window = min(window, max(1, (n - int(own[0])) // 3))
    return max(0, n - window)


def evaluate_on_signals(
    signals: FleetSignals,
    start: int,
    *,
    candidate: PriorAndOwn,
    live: PriorAndOwn | None,
    live_id: str | None = None,
) -> Comparison:
    """Score all three on ticks ``start..`` of the fleet's signals at the candidate's horizon,
    labelled by the fleet's own nodes (rows with no node held nor launched are unlabelled)."""
    end = signals.n_ticks
    ticks = np.arange(start, end, dtype=np.int64)
    feats = compute_signal_features(signals, ticks)
    labels = fleet_loss_labels(signals, ticks, horizon_seconds=candidate.horizon_s, known_until=end)
    mask = ~np.isnan(labels)
    x, y = feats[mask], labels[mask]
    cand = score(y, candidate.predict_features(x))
    base = score(y, availability_baseline(x))
    live_scores = score(y, live.predict_features(x)) if live is not None else None
    promoted, reason = compare(cand, base, live_scores)
    until = _trained_until(live) if live is not None else ""
    return Comparison(
        window_from=_iso(signals, start),
        window_until=_iso(signals, end),
        candidate=cand,
        baseline=base,
        live=live_scores,
        live_id=live_id if live is not None else None,
        live_saw_window=bool(until) and until > _iso(signals, start),
        promoted=promoted,
        reason=reason,
    )


def with_replay(comparison: Comparison, replayed: Replayed | None) -> Comparison:
    """The comparison once its window was replayed through the decision path: the same scores,
    the rule asked again with the replayed figures (None: nothing replayed, as it was)."""
    if replayed is None:
        return comparison
    promoted, reason = compare(comparison.candidate, comparison.baseline, comparison.live, replayed)
    return replace(comparison, promoted=promoted, reason=reason, replayed=replayed)
