"""The circuit breaker on actuation: N consecutive failures open it until an operator
resets it. Its state lives in the history, so a restart does not quietly close it."""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass
from datetime import datetime

from reconciler.core.history.ledger import Ledger

__all__ = ["Breaker", "BreakerState", "after_failure"]

_KEY = "breaker"


@dataclass(frozen=True, slots=True)
class BreakerState:
    failures: int = 0
    open: bool = False
    last_error: str | None = None
    changed_at: str | None = None  # ISO time of the last change


def after_failure(state: BreakerState, error: str, threshold: int, now: datetime) -> BreakerState:
    failures = state.failures + 1
    return BreakerState(failures, failures >= threshold, error, now.isoformat())


class Breaker:
    def __init__(self, ledger: Ledger, *, threshold: int) -> None:
        self._ledger = ledger
        self._threshold = threshold
        self._lock = threading.Lock()
        saved = ledger.get_state(_KEY)
        self._state = BreakerState(**saved) if isinstance(saved, dict) else BreakerState()

    @property
    def state(self) -> BreakerState:
        return self._state

    @property
    def is_open(self) -> bool:
        return self._state.open

    def _save(self, state: BreakerState, now: datetime) -> None:
        self._state = state
        self._ledger.set_state(_KEY, asdict(state), now)

    def success(self, now: datetime) -> None:
        with self._lock:
            if self._state.failures or self._state.open:
                self._save(BreakerState(changed_at=now.isoformat()), now)

    def failure(self, error: str, now: datetime) -> None:
        with self._lock:
            self._save(after_failure(self._state, error, self._threshold, now), now)

    def reset(self, now: datetime) -> None:
        with self._lock:
            self._save(BreakerState(changed_at=now.isoformat()), now)
