"""One way to build a daemon: settings, a history, AWS's clients and a clock in, a ready
``Daemon`` out. ``reconciler run`` builds it on its lease with the default actuators; the
embedded default builds it over its local AWS with its own (``local``) actuator.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from reconciler.actuate.base import StackActuator
from reconciler.actuate.pulumi_driver import PulumiActuator, select_stack
from reconciler.actuate.shadow import ShadowActuator
from reconciler.core.aws import Clients
from reconciler.core.history.ledger import Ledger
from reconciler.core.settings import DaemonSettings, Mode
from reconciler.daemon.daemon import Daemon
from reconciler.daemon.lease import Lease

__all__ = ["build_actuators", "build_daemon", "lease_name"]


def build_actuators(settings: DaemonSettings) -> dict[Mode, StackActuator]:
    """The stack write-back of each mode a daemon on AWS can run: ``shadow`` and ``pulumi``."""
    p = settings.pulumi
    return {
        "shadow": ShadowActuator(),
        "pulumi": PulumiActuator(
            select=select_stack(p.stack, str(p.work_dir)), retries=p.retries, backoff_s=p.backoff_s
        ),
    }


def lease_name(settings: DaemonSettings) -> str:
    s = settings.lease
    return str(settings.lease_path) if s.kind == "file" else f"{s.table}/{s.name}"


def _always_leading() -> bool:
    return True


def build_daemon(
    settings: DaemonSettings,
    ledger: Ledger,
    *,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    clients: Clients | None = None,
    actuators: Mapping[Mode, StackActuator] | None = None,
    lease: Lease | None = None,
) -> Daemon:
    """A daemon ready to ``start``. ``clients``: AWS's (default: boto3's, from the
    environment); ``actuators``: the stack write-back by mode (default: ``build_actuators``);
    ``lease``: the one this daemon took, checked before every action and recorded in the
    history (default: none, the daemon leads alone)."""
    daemon = Daemon(
        settings=settings,
        ledger=ledger,
        actuators=dict(actuators) if actuators is not None else build_actuators(settings),
        clients=clients,
        clock=clock,
        leader=lease.still_held if lease is not None else _always_leading,
        fence=lease.fence if lease is not None else None,
    )
    if lease is not None:
        token = f" with fencing token {lease.token}" if lease.token is not None else ""
        ledger.note(
            "lease", fleet="*", now=clock(), status="applied", target=lease_name(settings),
            detail=f"taken{token}",
        )  # fmt: skip
    return daemon
