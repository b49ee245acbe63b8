"""What an operator's ``POST`` carries: typed, strict (an unknown field, an empty reason, a
negative duration are a 422 saying which), each turned into the daemon's own command."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

__all__ = ["MAX_FOR_S", "CordonIn", "FloorIn", "ReasonIn", "UncordonIn"]

MAX_FOR_S = 30 * 86400.0  # a cordon or a floor lasts at most 30 days: renew it past that

Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
PoolName = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Duration = Annotated[float, Field(gt=0, le=MAX_FOR_S, description="seconds")]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ReasonIn(_In):
    reason: Reason


class CordonIn(_In):
    pool: PoolName  # region/zone/instance_type, one of the fleet's candidates
    reason: Reason
    for_s: Duration


class UncordonIn(_In):
    pool: PoolName
    reason: Reason


class FloorIn(_In):
    min_nodes: Annotated[int, Field(ge=0, le=10_000)]
    reason: Reason
    for_s: Duration
