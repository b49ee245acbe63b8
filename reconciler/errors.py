"""Errors raised by the reconciler.

    ReconcilerError                 anything the reconciler refuses
    ├── MarketDataError             a trace folder, price or advisor file is missing or malformed
    ├── WindowError                 a backtest window is empty or outside the traces
    ├── ModelError                  a model artifact is missing, malformed, or of other features
    │   └── NotEnoughHistoryError   too few labelled ticks before the window to fit a model
    ├── PolicyError                 a replay policy returned a decision the rules forbid
    ├── SweepError                  a backtest --sweep names no planner setting or a bad value
    └── HistoryReadError            the DuckDB history could not be read into market series

Third-party errors (DuckDB, LightGBM, JSON) are translated where they enter, with the
original kept as ``__cause__``. Every message says what was wrong and what to do.
"""

from __future__ import annotations

__all__ = [
    "HistoryReadError",
    "MarketDataError",
    "ModelError",
    "NotEnoughHistoryError",
    "PolicyError",
    "ReconcilerError",
    "SweepError",
    "WindowError",
]


class ReconcilerError(Exception):
    """Base of every error the reconciler raises."""


class MarketDataError(ReconcilerError):
    pass


class WindowError(ReconcilerError):
    pass


class ModelError(ReconcilerError):
    pass


class NotEnoughHistoryError(ModelError):
    pass


class PolicyError(ReconcilerError):
    pass


class SweepError(ReconcilerError):
    pass


class HistoryReadError(ReconcilerError):
    pass
