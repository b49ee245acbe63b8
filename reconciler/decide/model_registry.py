"""The model registry: every fitted model is kept, and one small pointer names the one that
decides.

Layout of the model path ``DIR``:

- ``DIR/<model_id>/`` (``<n>-<created>-<fingerprint>``): one artifact per fit
  (``model.txt``, ``model.json``), never overwritten.
  ``model.json`` holds, beside the model's own metadata, ``model_id``, ``created_at``,
  ``prior`` (the prior it is blended with: ``initial:<fingerprint>``, or null when there was
  none) and ``comparison``: how it scored against the live model and the baseline on the days
  it did not fit, how each served those days replayed through the decision path
  (``replayed``: availability and cost ratio; absent from artifacts written before the replay
  was asked, which read as None), and whether that promoted it. Each is an **own** model:
  fitted on the fleet's signals (``reconciler.decide.signal_model.train_own``).
- ``DIR/live.json``: ``{"model_id", "promoted_at", "reason"}``, written last and atomically
  (a temporary file renamed over it), so a crash leaves the previous pointer whole. A
  ``model_id`` of null says the baseline decides.
- ``DIR/model.txt`` + ``DIR/model.json``: the **prior** (``train --traces --out DIR``: public
  traces through the production-signal mapping, ``train_prior``), listed as ``initial``. It
  decides alone while there is no ``live.json``; once an own model is promoted, the two
  decide blended (``PriorAndOwn``, docs/deciding.md).

What decides is ``live_blend``: the prior and the live own model. An artifact from before
spotfleet learnt from fleet signals (features over a capacity number) is still listed, but
does not decide: loading it says so and how to replace it.

An artifact folder is written under a temporary name and renamed into place whole, so a
listing never sees half of one.
"""

from __future__ import annotations

import json
import math
import os
import shutil
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from reconciler.core.errors import ModelError
from reconciler.decide.model import TrainedModel, load_model
from reconciler.decide.model_compare import Comparison, Replayed, ReplayedFigures, Scores
from reconciler.decide.signal_features import SIGNAL_FEATURES
from reconciler.decide.signal_model import PriorAndOwn

__all__ = [
    "INITIAL_ID",
    "LivePointer",
    "ModelEntry",
    "list_models",
    "live_blend",
    "live_model",
    "prior_id",
    "promote",
    "read_live",
    "register",
]

LIVE = "live.json"
INITIAL_ID = "initial"


@dataclass(frozen=True, slots=True)
class LivePointer:
    model_id: str | None  # None: the baseline decides
    promoted_at: str | None
    reason: str


@dataclass(frozen=True, slots=True)
class ModelEntry:
    model_id: str
    folder: Path
    created_at: str | None
    trained_from: str | None
    trained_until: str | None
    fingerprint: str | None
    prior: str | None
    holdout_auc: float | None  # the fit's own held-out part (inside its training window)
    holdout_brier: float | None
    comparison: Comparison | None  # None: a plain artifact, never compared


def _number(v: object) -> float | None:
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else float(str(v))


def _scores_json(s: Scores | None) -> dict[str, Any] | None:
    return None if s is None else {k: _number(v) for k, v in asdict(s).items()}


def _scores_of(raw: Any) -> Scores | None:
    if raw is None:
        return None
    nan = math.nan
    return Scores(
        auc=raw["auc"] if raw.get("auc") is not None else nan,
        brier=raw["brier"] if raw.get("brier") is not None else nan,
        rows=int(raw["rows"]),
        losses=int(raw["losses"]),
    )


def comparison_json(c: Comparison) -> dict[str, Any]:
    """The comparison as strict JSON (an undefined AUC is null)."""
    out = asdict(c)
    for key in ("candidate", "baseline", "live"):
        out[key] = _scores_json(getattr(c, key))
    return out


def _figures_of(raw: Any) -> ReplayedFigures | None:
    if not isinstance(raw, dict):
        return None
    return ReplayedFigures(
        availability=float(raw["availability"]), cost_ratio=float(raw["cost_ratio"])
    )


def _replayed_of(raw: Any) -> Replayed | None:
    """The replayed figures; None for an artifact written before the replay was asked."""
    if not isinstance(raw, dict):
        return None
    cand, base = _figures_of(raw.get("candidate")), _figures_of(raw.get("baseline"))
    if cand is None or base is None:
        return None
    return Replayed(
        candidate=cand,
        baseline=base,
        live=_figures_of(raw.get("live")),
        node_ticks=int(raw.get("node_ticks", 0)),
    )


def comparison_of(raw: Any) -> Comparison | None:
    if not isinstance(raw, dict):
        return None
    base, cand = _scores_of(raw["baseline"]), _scores_of(raw["candidate"])
    if base is None or cand is None:
        return None  # not a comparison this spotfleet wrote
    return Comparison(
        window_from=raw["window_from"],
        window_until=raw["window_until"],
        candidate=cand,
        baseline=base,
        live=_scores_of(raw.get("live")),
        live_id=raw.get("live_id"),
        live_saw_window=bool(raw.get("live_saw_window")),
        promoted=bool(raw["promoted"]),
        reason=str(raw["reason"]),
        replayed=_replayed_of(raw.get("replayed")),
    )


def _new_id(path: Path, model: TrainedModel, created_at: datetime) -> str:
    """``<n>-<created, UTC>-<fingerprint>``: the sequence number first, so names sort in the
    order the fits were made (two fits may share a clock: a replayed one, or a test's)."""
    taken = [p.name[:4] for p in path.iterdir() if p.is_dir() and p.name[4:5] == "-"]
    n = 1 + max((int(seq) for seq in taken if seq.isdigit()), default=0)
    stamp = f"{created_at.astimezone(UTC):%Y%m%dT%H%M%SZ}"
    return f"{n:04d}-{stamp}-{str(model.meta.get('fingerprint'))[:8]}"


def prior_id(prior: TrainedModel | None) -> str | None:
    """How an artifact names the prior it was blended with."""
    if prior is None:
        return None
    return f"{INITIAL_ID}:{str(prior.meta.get('fingerprint'))[:8]}"


def register(
    path: Path,
    model: TrainedModel | PriorAndOwn,
    comparison: Comparison | None,
    *,
    created_at: datetime,
) -> ModelEntry:
    """Write ``model`` (of a blend: its own model, naming its prior) as a new artifact beside
    the others; its id is in the artifact's meta."""
    if isinstance(model, PriorAndOwn):
        if model.own is None:
            raise ModelError("a blend without an own model has nothing to register")
        artifact, prior = model.own, prior_id(model.prior)
    else:
        artifact, prior = model, None
    path.mkdir(parents=True, exist_ok=True)
    model_id = _new_id(path, artifact, created_at)
    artifact.meta.update(
        model_id=model_id,
        created_at=created_at.astimezone(UTC).isoformat(),
        prior=prior,
        comparison=None if comparison is None else comparison_json(comparison),
    )
    staging = path / f".{model_id}.tmp"
    shutil.rmtree(staging, ignore_errors=True)
    artifact.save(staging)
    staging.rename(path / model_id)
    return _entry(path / model_id, artifact.meta)


def promote(path: Path, model_id: str | None, *, at: datetime, reason: str) -> LivePointer:
    """Point ``live.json`` at ``model_id`` (None: the baseline), atomically."""
    pointer = LivePointer(model_id, at.astimezone(UTC).isoformat(), reason)
    tmp = path / f".{LIVE}.tmp"
    with tmp.open("w") as f:
        json.dump(asdict(pointer), f, indent=2)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path / LIVE)
    return pointer


def read_live(path: Path) -> LivePointer | None:
    """The pointer; for a plain artifact without one, a pointer to it; None: nothing yet."""
    try:
        raw = json.loads((path / LIVE).read_text())
    except FileNotFoundError:
        if (path / "model.json").exists():
            return LivePointer(INITIAL_ID, None, f"the artifact at {path} (no model was promoted)")
        return None
    except (OSError, ValueError) as exc:
        raise ModelError(
            f"{path / LIVE}: unreadable ({exc}); delete it and the newest promoted model "
            "decides after the next retrain"
        ) from exc
    return LivePointer(raw.get("model_id"), raw.get("promoted_at"), str(raw.get("reason", "")))


def _folder(path: Path, model_id: str) -> Path:
    return path if model_id == INITIAL_ID else path / model_id


def live_model(path: Path) -> tuple[TrainedModel | None, LivePointer | None]:
    """The model that decides, and the pointer that says so."""
    pointer = read_live(path)
    if pointer is None or pointer.model_id is None:
        return None, pointer
    return load_model(_folder(path, pointer.model_id)), pointer


def _signal_model(folder: Path, role: str) -> TrainedModel:
    model = load_model(folder)
    if tuple(model.meta.get("features", ())) != SIGNAL_FEATURES:
        raise ModelError(
            f"{folder}: this {role} was fitted on a capacity number (the model before spotfleet "
            "learnt from fleet signals) and cannot decide now; "
            + (
                f"write a prior there with `python -m reconciler train --traces DIR --out {folder}`"
                if role == "prior"
                else f"point {folder.parent / LIVE} elsewhere, or delete it and retrain "
                f"(`python -m reconciler train --history FILE --out {folder.parent}`)"
            )
        )
    return model


def live_blend(path: Path) -> tuple[PriorAndOwn | None, LivePointer | None]:
    """What decides: the prior at ``path`` (if any) blended with the live own model (if one
    was promoted); None when neither is there or the pointer names the baseline."""
    pointer = read_live(path)
    if pointer is None or pointer.model_id is None:
        return None, pointer
    prior = _signal_model(path, "prior") if (path / "model.json").exists() else None
    own = None
    if pointer.model_id != INITIAL_ID:
        own = _signal_model(path / pointer.model_id, "model")
    if prior is None and own is None:
        return None, pointer
    settings = (own or prior).settings  # type: ignore[union-attr]
    return PriorAndOwn(prior=prior, own=own, settings=settings), pointer


def _entry(folder: Path, meta: dict[str, Any], model_id: str | None = None) -> ModelEntry:
    window = meta.get("training_window") or {}
    held = (meta.get("holdout") or {}).get("model") or {}
    return ModelEntry(
        model_id=model_id or str(meta.get("model_id", folder.name)),
        folder=folder,
        created_at=meta.get("created_at"),
        trained_from=window.get("from"),
        trained_until=window.get("until"),
        fingerprint=meta.get("fingerprint"),
        prior=meta.get("prior"),
        holdout_auc=_number(held.get("auc")),
        holdout_brier=_number(held.get("brier")),
        comparison=comparison_of(meta.get("comparison")),
    )


def list_models(path: Path) -> list[ModelEntry]:
    """Every artifact under ``path``, oldest first (the plain one, if any, first of all)."""
    found: list[ModelEntry] = []
    if (path / "model.json").exists():
        found.append(_entry(path, json.loads((path / "model.json").read_text()), INITIAL_ID))
    if not path.is_dir():
        return found
    for folder in sorted(p for p in path.iterdir() if p.is_dir() and not p.name.startswith(".")):
        try:
            meta = json.loads((folder / "model.json").read_text())
        except (OSError, ValueError):
            continue  # not an artifact
        found.append(_entry(folder, meta))
    return found
