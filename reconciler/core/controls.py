"""What operators have set on a fleet by hand, and which of it is in force: pure.

Each control carries who set it, why, and (but for a pause) until when; an expired one is no
longer in force and drops out at the next write. Stored in the history (``daemon_state`` key
``controls:<fleet>``), so a restart keeps them; ``reconciler.daemon.operator`` changes them.

* ``paused``: the fleet is observed and decided, and nothing is applied (like shadow mode,
  for this fleet alone) until it is resumed;
* ``cordons``: pools excluded by hand: the planner sees them as unavailable (no new node;
  the nodes they hold stay) until the cordon expires or is lifted;
* ``floor``: the fewest nodes demand may ask for (K), until it expires;
* ``drains``: nodes an operator asked to drain: each is planned as going (like a node AWS
  warned about), drained through its group and replaced.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

__all__ = [
    "NO_CONTROLS",
    "CordonedPool",
    "FleetControls",
    "NodeFloor",
    "Paused",
    "RequestedDrain",
    "state_key",
]


class _Control(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    reason: str
    by: str
    since: datetime


class Paused(_Control):
    pass


class CordonedPool(_Control):
    pool: str
    until: datetime


class NodeFloor(_Control):
    min_nodes: int
    until: datetime


class RequestedDrain(_Control):
    instance_id: str
    until: datetime


class FleetControls(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    paused: Paused | None = None
    cordons: tuple[CordonedPool, ...] = ()
    floor: NodeFloor | None = None
    drains: tuple[RequestedDrain, ...] = ()

    def in_force(self, now: datetime) -> FleetControls:
        """The controls that have not expired at ``now``."""
        floor = self.floor if self.floor is not None and self.floor.until > now else None
        return FleetControls(
            paused=self.paused,
            cordons=tuple(c for c in self.cordons if c.until > now),
            floor=floor,
            drains=tuple(d for d in self.drains if d.until > now),
        )

    def cordoned(self, now: datetime) -> dict[str, float]:
        """pool -> until (epoch seconds), as the acting loop takes unavailable pools."""
        return {c.pool: c.until.timestamp() for c in self.cordons if c.until > now}

    def draining(self, now: datetime) -> frozenset[str]:
        return frozenset(d.instance_id for d in self.drains if d.until > now)

    def floor_at(self, now: datetime) -> int | None:
        return self.floor.min_nodes if self.floor is not None and self.floor.until > now else None


NO_CONTROLS = FleetControls()  # a fleet nobody has set anything on


def state_key(fleet: str) -> str:
    return f"controls:{fleet}"
