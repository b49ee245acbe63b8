"""Every error spotfleet's reconciler raises on purpose: one hierarchy, all defined here.

    ReconcilerError                 anything the reconciler refuses
    ├── MarketDataError             a trace folder, price or advisor file is missing or malformed
    ├── WindowError                 a backtest window is empty or outside the traces
    ├── ModelError                  a model artifact is missing, malformed, or of other features
    │   └── NotEnoughHistoryError   too few labelled ticks before the window to fit a model
    ├── PolicyError                 a replay policy returned a decision the rules forbid
    ├── SweepError                  a backtest --sweep names no planner setting or a bad value
    ├── HistoryReadError            the DuckDB history could not be read into market series
    ├── WalkForwardUsageError       a single-window backtest flag given with --walk-forward
    ├── DemoError                   the embedded default cannot run as asked (settings, data)
    └── DaemonError                 the running daemon, its collectors and its actuators
        ├── SettingsError           the daemon's settings (file, environment) are invalid;
        │                           ``problems``: one line per problem
        ├── NotLeaderError          a standby was asked to act: it holds no lease
        ├── UnknownTargetError      an operator's command names no fleet, pool or node here
        ├── InvalidCommandError     an operator's command cannot be carried out as asked
        │                           (``field``: the part of the request that is wrong)
        ├── AwsCallError            an AWS call failed (boto3/botocore error kept as the cause)
        ├── ActuationError          an actuator could not apply a decision
        │   └── StackBusyError      the stack stayed locked by another update after every retry
        ├── LeaseLostError          the fencing check refused an actuation: this daemon's lease
        │                           expired or was taken (a newer token), or could not be confirmed
        └── DecideError             the deciding code could not plan for a fleet (no market
                                    data, a corrupt model artifact)

Third-party errors (boto3, DuckDB, LightGBM, JSON, pydantic) are translated where they enter
(``raise X(...) from exc``), so the scheduler, the status API and the command line only ever
see these. Every message says what was wrong and what to do.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = [
    "ActuationError",
    "AwsCallError",
    "DaemonError",
    "DecideError",
    "DemoError",
    "HistoryReadError",
    "InvalidCommandError",
    "LeaseLostError",
    "MarketDataError",
    "ModelError",
    "NotEnoughHistoryError",
    "NotLeaderError",
    "PolicyError",
    "ReconcilerError",
    "SettingsError",
    "StackBusyError",
    "SweepError",
    "UnknownTargetError",
    "WalkForwardUsageError",
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


class WalkForwardUsageError(ReconcilerError):
    """A flag of a single-window backtest given with ``--walk-forward``."""


class BacktestUsageError(ReconcilerError):
    """A backtest flag without what it needs (``--frontier-json`` without a peer run)."""


class DemoError(ReconcilerError):
    """The demo cannot run as asked (bad settings, missing data); says what to change."""


class DaemonError(ReconcilerError):
    """Base of every error the running daemon raises on purpose."""


class AwsCallError(DaemonError):
    def __init__(self, operation: str, message: str) -> None:
        super().__init__(f"{operation}: {message}")
        self.operation = operation


class ActuationError(DaemonError):
    pass


class StackBusyError(ActuationError):
    pass


class LeaseLostError(DaemonError):
    """Raised before an actuation reaches AWS, so a daemon that lost its lease (paused past
    expiry, partitioned, superseded) applies nothing."""


class DecideError(DaemonError):
    """The deciding code could not plan for a fleet (no market data, a bad model...)."""


class SettingsError(DaemonError):
    """The settings were refused; ``problems`` holds one line per problem."""

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(self.problems))


class NotLeaderError(DaemonError):
    """The daemon is a standby: it cannot act until it holds the lease."""


class UnknownTargetError(DaemonError):
    """A command named a fleet, pool or node this daemon does not have."""


class InvalidCommandError(DaemonError):
    """A command that cannot be carried out as asked (a floor above the fleet's maximum);
    ``field``: the part of the request that is wrong."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field
