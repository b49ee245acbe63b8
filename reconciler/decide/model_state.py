"""Which model decides, and why: what ``/status`` and the status page say about the model.

Built from the registry's pointer at start, and after each retrain from the candidate's
comparison; kept in memory so ``/status`` answers without reading a file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from reconciler.decide.model_compare import Comparison
from reconciler.decide.model_registry import INITIAL_ID, LivePointer, list_models

__all__ = ["ModelState", "initial_state"]


@dataclass(frozen=True, slots=True)
class ModelState:
    model_id: str | None  # the model that decides; None: the 24-hour availability baseline
    reason: str  # why it decides, in words
    promoted_at: str | None = None
    comparison: Comparison | None = None  # what promoted it (None: never compared)
    candidate_id: str | None = None  # the last candidate fitted, promoted or not
    candidate: Comparison | None = None  # how it compared

    @property
    def deciding(self) -> str:
        return self.model_id or "baseline"


def initial_state(path: Path | None, pointer: LivePointer | None) -> ModelState:
    if path is None:
        return ModelState(None, "no model_path is configured: the baseline decides")
    entries = list_models(path) if path.exists() else []
    last = entries[-1] if entries and entries[-1].model_id != INITIAL_ID else None
    candidate = (last.model_id, last.comparison) if last else (None, None)
    if pointer is None:
        return ModelState(
            None, f"no model at {path} yet: the baseline decides until one is trained", None,
            None, *candidate,
        )  # fmt: skip
    live = next((e for e in entries if e.model_id == pointer.model_id), None)
    return ModelState(
        pointer.model_id,
        pointer.reason or "promoted",
        pointer.promoted_at,
        live.comparison if live else None,
        *candidate,
    )
