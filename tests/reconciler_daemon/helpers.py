"""Shared builders for the reconcile tests: a fleet, its nodes, a recording actuator."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from reconciler.actuate.base import Applied
from reconciler.actuate.shadow import ShadowActuator
from reconciler.daemon.breaker import Breaker
from reconciler.daemon.cycle import Reconciler
from reconciler.daemon.errors import ActuationError
from reconciler.daemon.ledger import Ledger
from reconciler.daemon.settings import DaemonSettings, FleetTarget, Mode, SafetySettings

from .conftest import T0, Clock

FLEET = FleetTarget(
    name="gen",
    instance_types=("g5.xlarge", "g5.2xlarge"),
    subnets={"us-east-1a": "subnet-0aaa1111", "us-east-1b": "subnet-0bbb2222"},
    autoscaling_group="spotfleet-gen",
    max_nodes=6,
    on_demand_prices={"g5.xlarge": 1.006, "g5.2xlarge": 1.212},
)
CHEAP = "us-east-1/us-east-1a/g5.xlarge"


class RecordingActuator:
    """Stands in for a stack actuator: keeps what it was asked, fails when told to."""

    name = "pulumi"

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.fail_with: BaseException | None = None

    def apply(self, fleet: str, placement: dict[str, Any]) -> Applied:
        self.calls.append((fleet, placement))
        if self.fail_with is not None:
            raise self.fail_with
        return Applied(changed=True, summary="up succeeded: update=1")


def add_nodes(ledger: Ledger, pool: str = CHEAP, n: int = 2, prefix: str = "i-") -> None:
    launched = (T0 - timedelta(hours=3)).replace(tzinfo=None)
    ledger.history.con.executemany(
        "INSERT INTO nodes (instance_id, fleet, pool, lifecycle, state, launched_at, observed_at) "
        "VALUES (?, 'gen', ?, 'spot', 'InService', ?, ?)",
        [(f"{prefix}{i}", pool, launched, launched) for i in range(n)],
    )


def make_reconciler(
    ledger: Ledger,
    clock: Clock,
    *,
    mode: Mode = "pulumi",
    actuator: RecordingActuator | None = None,
    fleet: FleetTarget = FLEET,
    **safety: Any,
) -> Reconciler:
    settings = DaemonSettings(fleets=(fleet,), safety=SafetySettings(**safety))
    reconciler = Reconciler(
        ledger=ledger,
        settings=settings,
        actuators={"shadow": ShadowActuator(), "pulumi": actuator or RecordingActuator()},
        breaker=Breaker(ledger, threshold=settings.safety.breaker_failures),
        clock=clock,
        mode=lambda: mode,
    )
    reconciler.load()
    return reconciler


def warn(
    ledger: Ledger, instance_id: str, pool: str = CHEAP, kind: str = "spot_interruption_warning"
) -> None:
    ledger.history.con.execute(
        "INSERT INTO interruption_events (event_id, kind, ts, pool, instance_id, source) "
        "VALUES (?, ?, ?, ?, ?, 'aws.ec2')",
        [f"ev-{instance_id}-{kind}", kind, T0.replace(tzinfo=None), pool, instance_id],
    )


__all__ = [
    "CHEAP",
    "FLEET",
    "ActuationError",
    "RecordingActuator",
    "add_nodes",
    "make_reconciler",
    "warn",
]
