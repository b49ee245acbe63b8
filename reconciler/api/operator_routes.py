"""The operator's actions over HTTP, each behind the bearer token and recorded with its
reason: pause and resume a fleet, cordon and uncordon a pool, drain a node, a fleet's floor,
a retrain. An unknown fleet, pool or node is a 404 naming it; a malformed request a 422; a
standby (or a daemon that cannot do it) a 409.
"""

# No ``from __future__ import annotations``: FastAPI reads the local ``Caller`` annotation.
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path
from fastapi.exceptions import RequestValidationError

from reconciler.api.models import Accepted, Problem
from reconciler.api.operator_models import CordonIn, FloorIn, ReasonIn, UncordonIn
from reconciler.api.source import Source
from reconciler.core.errors import DaemonError
from reconciler.core.operator_commands import (
    ClearFloor,
    Command,
    CordonPool,
    DrainNode,
    InvalidCommandError,
    PauseFleet,
    ResumeFleet,
    SetFloor,
    StartRetrain,
    UncordonPool,
    UnknownTargetError,
)

__all__ = ["operator_router"]

FleetName = Annotated[str, Path(max_length=64, description="a fleet of the daemon's settings")]
InstanceId = Annotated[str, Path(max_length=64, description="a live node of the fleet")]

RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "no valid bearer token"},
    404: {"model": Problem, "description": "no such fleet, pool or node (named)"},
    409: {"model": Problem, "description": "a standby, or a daemon that cannot do it"},
}  # 422, FastAPI's own: a malformed request, or one that cannot be done, field by field


def operator_router(src: Callable[[], Source], authorized: Callable[..., str]) -> APIRouter:
    router = APIRouter(responses=RESPONSES)
    Caller = Annotated[str, Depends(authorized)]

    def carry_out(command: Command, caller: str) -> Accepted:
        try:
            said = src().operate(command, f"api:{caller}")
        except UnknownTargetError as exc:
            raise HTTPException(404, str(exc)) from exc
        except InvalidCommandError as exc:  # answered as any other invalid field is
            error = {"loc": ("body", exc.field), "msg": str(exc), "type": "value_error"}
            raise RequestValidationError([error]) from exc
        except DaemonError as exc:
            raise HTTPException(409, str(exc)) from exc
        return Accepted(ok=True, detail=said)

    @router.post("/fleets/{fleet}/pause")
    def pause(fleet: FleetName, body: ReasonIn, caller: Caller) -> Accepted:
        """Observe and decide, act on nothing, until resumed (shadow mode for this fleet)."""
        return carry_out(PauseFleet(fleet, body.reason), caller)

    @router.post("/fleets/{fleet}/resume")
    def resume(fleet: FleetName, body: ReasonIn, caller: Caller) -> Accepted:
        """Act again on what the fleet's reconciles decide."""
        return carry_out(ResumeFleet(fleet, body.reason), caller)

    @router.post("/fleets/{fleet}/cordon")
    def cordon(fleet: FleetName, body: CordonIn, caller: Caller) -> Accepted:
        """No new node in ``pool`` for ``for_s`` seconds (its nodes stay)."""
        return carry_out(CordonPool(fleet, body.pool, body.reason, body.for_s), caller)

    @router.post("/fleets/{fleet}/uncordon")
    def uncordon(fleet: FleetName, body: UncordonIn, caller: Caller) -> Accepted:
        """Lift a cordon before it ends."""
        return carry_out(UncordonPool(fleet, body.pool, body.reason), caller)

    @router.post("/fleets/{fleet}/nodes/{instance_id}/drain")
    def drain(
        fleet: FleetName, instance_id: InstanceId, body: ReasonIn, caller: Caller
    ) -> Accepted:
        """Drain one node through its group and replace it, in a reconcile run at once."""
        return carry_out(DrainNode(fleet, instance_id, body.reason), caller)

    @router.post("/fleets/{fleet}/floor")
    def floor(fleet: FleetName, body: FloorIn, caller: Caller) -> Accepted:
        """Demand asks for at least ``min_nodes`` for ``for_s`` seconds."""
        return carry_out(SetFloor(fleet, body.min_nodes, body.for_s, body.reason), caller)

    @router.post("/fleets/{fleet}/floor/clear")
    def clear_floor(fleet: FleetName, body: ReasonIn, caller: Caller) -> Accepted:
        """End the fleet's floor before it expires."""
        return carry_out(ClearFloor(fleet, body.reason), caller)

    @router.post("/retrain", status_code=202)
    def retrain(body: ReasonIn, caller: Caller) -> Accepted:
        """Run the retrain job now (409 without a ``model_path``)."""
        return carry_out(StartRetrain(body.reason), caller)

    return router
