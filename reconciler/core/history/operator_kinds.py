"""The ``fleet_actions`` kinds an operator's commands write: the daemon's operator writes
them, the status page reads them back (so the list lives below both)."""

from __future__ import annotations

__all__ = ["OPERATOR_KINDS"]

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
