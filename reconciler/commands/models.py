"""``python -m reconciler models`` (the registry's artifacts and their comparisons) and the
``train --history FILE`` path (a candidate from a daemon's DuckDB history, as its daily
retrain fits one: an own model on the history's fleet signals, blended with the registry's
prior, scored on the last days against the live blend and the baseline)."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from reconciler.core.errors import ReconcilerError
from reconciler.core.history.read_only import observed_pools, read_only_history
from reconciler.core.market import MarketSeries
from reconciler.core.settings import Cadences
from reconciler.daemon.training import fit_candidate
from reconciler.decide.model import ModelSettings, TrainedModel
from reconciler.decide.model_compare import Comparison, ReplayedFigures, Scores
from reconciler.decide.model_registry import (
    ModelEntry,
    comparison_json,
    list_models,
    live_blend,
    promote,
    read_live,
    register,
)
from reconciler.decide.signal_model import PriorAndOwn, train_prior

__all__ = [
    "PRIOR_SCORE_TARGET",
    "HistoryFit",
    "holdout_table",
    "register_models",
    "train_on_history",
    "train_prior_on",
]

DEFAULT_MODEL_PATH = Path("var/model")
# The target capacity the prior's made-up placement scores answer: a public trace belongs to
# no fleet, so the demo fleet's max_nodes (Pulumi.demo.yaml) stands in for the request.
PRIOR_SCORE_TARGET = 6


def train_prior_on(
    market: MarketSeries,
    *,
    end: int,
    settings: ModelSettings,
    on_iteration: Callable[[int, int], None] | None = None,
    score_target: int = PRIOR_SCORE_TARGET,
) -> TrainedModel:
    """``train --traces``: the prior (``train_prior``), the traces seen through the
    production-signal mapping at the daemon's placement-score cadence."""
    return train_prior(
        market,
        end=end,
        settings=settings,
        score_every_s=Cadences().placement_scores_s,
        score_target=score_target,
        on_iteration=on_iteration,
    )


@dataclass(frozen=True)
class HistoryFit:
    model: TrainedModel  # the own model fitted (its held-out metrics are its own split's)
    blend: PriorAndOwn  # what would decide if promoted: the prior with it
    entry: ModelEntry
    comparison: Comparison


def train_on_history(
    history: Path,
    out_dir: Path,
    *,
    pools: list[str] | None,
    until: datetime | None,
    lookback_s: float,
    evaluation_s: float,
    grid_s: int | None,
    now: datetime,
) -> HistoryFit:
    """Fit a candidate as the daemon's retrain does, keep it in the registry at ``out_dir``
    and promote it there when it beats the live model and the baseline."""
    with read_only_history(history) as con:
        found = observed_pools(con)
        live, pointer = live_blend(out_dir)
        blend, comparison = fit_candidate(
            con,
            pools or list(found.pools),
            now=until or found.last,
            lookback_s=lookback_s,
            grid_s=grid_s,
            evaluation_s=evaluation_s,
            live=live,
            live_id=pointer.model_id if pointer else None,
        )
    entry = register(out_dir, blend, comparison, created_at=now)
    if comparison.promoted:
        promote(out_dir, entry.model_id, at=now, reason=comparison.reason)
    assert blend.own is not None  # fit_candidate fits one
    return HistoryFit(blend.own, blend, entry, comparison)


def holdout_table(model: TrainedModel, horizon_s: float) -> Table:
    table = Table(
        title=f"held-out ({model.meta['rows']['holdout']} pool-ticks, horizon {horizon_s:.0f} s)"
    )
    for col in ("scorer", "AUC", "Brier", "ECE"):
        table.add_column(col)
    for name, m in model.meta["holdout"].items():
        table.add_row(name, f"{m['auc']:.4f}", f"{m['brier']:.4f}", f"{m['ece']:.4f}")
    return table


def _figures(s: Scores | None) -> str:
    if s is None:
        return "-"
    auc = "n/a" if math.isnan(s.auc) else f"{s.auc:.3f}"
    return f"{auc} / {s.brier:.4f}"


def _served(f: ReplayedFigures | None) -> str:
    return "-" if f is None else f"{f.availability:.4f} / {f.cost_ratio:.4f}"


def comparison_table(c: Comparison) -> Table:
    table = Table(title=f"scored on {c.window_from} .. {c.window_until} (not fitted)")
    for col in ("scorer", "AUC / Brier", "pool-ticks", "losses", "replayed avail / cost"):
        table.add_column(col)
    r = c.replayed
    rows: list[tuple[str, Scores | None, ReplayedFigures | None]] = [
        ("candidate", c.candidate, r.candidate if r else None),
        ("baseline", c.baseline, r.baseline if r else None),
    ]
    if c.live is not None:
        rows.append((f"live model {c.live_id}", c.live, r.live if r else None))
    for name, s, served in rows:
        assert s is not None
        table.add_row(name, _figures(s), str(s.rows), str(s.losses), _served(served))
    return table


def _verdict(c: Comparison | None) -> str:
    if c is None:
        return "plain artifact, never compared"
    if c.promoted:
        return "promoted"
    if " serves worse than the " in c.reason:
        return (
            "kept out: serves worse than the "
            + c.reason.split(" serves worse than the ")[1].split(" (")[0]
            + " replayed"
        )
    why = c.reason.split(" (")[0]
    return "kept out: " + (why.split(" does ", 1)[1] if " does " in why else why)


def _entry_json(e: ModelEntry, live_id: str | None) -> dict[str, Any]:
    return {
        "model_id": e.model_id,
        "folder": str(e.folder),
        "live": e.model_id == live_id,
        "created_at": e.created_at,
        "trained_from": e.trained_from,
        "trained_until": e.trained_until,
        "fingerprint": e.fingerprint,
        "prior": e.prior,
        "holdout_auc": e.holdout_auc,
        "holdout_brier": e.holdout_brier,
        "comparison": None if e.comparison is None else comparison_json(e.comparison),
    }


def register_models(app: typer.Typer) -> None:
    @app.command("models")
    def models(
        path: Annotated[
            Path, typer.Option(help="the model path (the daemon's model_path)")
        ] = DEFAULT_MODEL_PATH,
        as_json: Annotated[bool, typer.Option("--json", help="JSON on stdout")] = False,
    ) -> None:
        """List the registry's artifacts, which one decides, and how each compared."""
        out = Console() if Console().is_terminal else Console(width=160)
        try:
            entries = list_models(path)
            pointer = read_live(path)
        except ReconcilerError as exc:
            Console(stderr=True).print(f"[red]error:[/red] {exc}")
            raise typer.Exit(code=2) from exc
        live_id = pointer.model_id if pointer else None
        if as_json:
            print(json.dumps([_entry_json(e, live_id) for e in entries], indent=2))
            return
        if not entries:
            out.print(
                f"no model at {path}: the baseline decides "
                f"(python -m reconciler train --history FILE --out {path})"
            )
            return
        table = Table(title=f"models at {path}")
        for col in ("id", "live", "trained until", "scored on", "candidate", "live then",
                    "baseline", "replayed cand / live / base", "verdict"):  # fmt: skip
            table.add_column(col)
        for e in entries:
            c = e.comparison
            r = c.replayed if c else None
            table.add_row(
                e.model_id,
                "decides" if e.model_id == live_id else "",
                e.trained_until or "-",
                f"{c.window_from[:16]} .. {c.window_until[:16]}" if c else "-",
                _figures(c.candidate) if c else "-",
                _figures(c.live) if c else "-",
                _figures(c.baseline) if c else "-",
                " | ".join(_served(f) for f in (r.candidate, r.live, r.baseline)) if r else "-",
                _verdict(c),
            )
        out.print(table)
        if pointer is not None:
            out.print(f"deciding: {pointer.model_id or 'the baseline'} ({pointer.reason})")
        else:
            out.print("deciding: the baseline (no model was promoted)")
