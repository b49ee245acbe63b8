"""What an operator may ask of a running daemon (``reconciler.daemon.operator`` carries it
out), as typed commands, and the two ways one is refused: a target the daemon does not have
(``UnknownTargetError``, 404) or a request that cannot be carried out as asked
(``InvalidCommandError``, 422). Here, below the API, so the API builds them without importing
the daemon.
"""

from __future__ import annotations

from dataclasses import dataclass

from reconciler.core.errors import InvalidCommandError, UnknownTargetError

__all__ = [
    "OPERATOR_KINDS",
    "ClearFloor",
    "Command",
    "CordonPool",
    "DrainNode",
    "InvalidCommandError",
    "PauseFleet",
    "ResumeFleet",
    "SetFloor",
    "StartRetrain",
    "UncordonPool",
    "UnknownTargetError",
]

# The fleet_actions kinds an operator's commands write.
OPERATOR_KINDS = (
    "pause",
    "resume",
    "cordon",
    "uncordon",
    "drain_request",
    "floor",
    "floor_cleared",
    "retrain_request",
)


@dataclass(frozen=True, slots=True)
class PauseFleet:
    fleet: str
    reason: str


@dataclass(frozen=True, slots=True)
class ResumeFleet:
    fleet: str
    reason: str


@dataclass(frozen=True, slots=True)
class CordonPool:
    fleet: str
    pool: str
    reason: str
    for_s: float


@dataclass(frozen=True, slots=True)
class UncordonPool:
    fleet: str
    pool: str
    reason: str


@dataclass(frozen=True, slots=True)
class DrainNode:
    fleet: str
    instance_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class SetFloor:
    fleet: str
    min_nodes: int
    for_s: float
    reason: str


@dataclass(frozen=True, slots=True)
class ClearFloor:
    fleet: str
    reason: str


@dataclass(frozen=True, slots=True)
class StartRetrain:
    reason: str


Command = (
    PauseFleet | ResumeFleet | CordonPool | UncordonPool | DrainNode | SetFloor | ClearFloor
    | StartRetrain
)  # fmt: skip
