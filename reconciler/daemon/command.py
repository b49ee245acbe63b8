"""``run``: the daemon's process, from settings to shutdown; ``register`` adds it to a CLI.

Order matters: the status API comes up first (a standby answers /healthz and says who
holds the lease), the lease is taken before the history is opened (the history is
single-writer too), and the schedule starts last. SIGTERM and SIGINT stop it cleanly.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from analytics.errors import AnalyticsError, HistoryLockedError
from analytics.store import History, open_history
from gpu_node.logformat import LogFormat
from gpu_node.logsafety import configure_logging
from reconciler.api.app import SourceHolder
from reconciler.api.source import DaemonSource, StandbySource
from reconciler.core.aws import client
from reconciler.core.errors import DaemonError
from reconciler.core.history.ledger import Ledger
from reconciler.core.settings import DaemonSettings, SettingsError, load_settings
from reconciler.daemon.api_server import serve_api
from reconciler.daemon.builder import build_daemon, lease_name
from reconciler.daemon.dynamo_lease import DynamoLease, lease_client
from reconciler.daemon.lease import FileLease, Lease
from reconciler.daemon.preflight import mode_unavailable
from reconciler.daemon.stack_fleets import with_stack_fleets

__all__ = ["open_lease", "register", "run"]

log = logging.getLogger(__name__)


def open_lease(settings: DaemonSettings, *, file_poll_s: float = 2.0) -> Lease:
    s = settings.lease
    if s.kind == "file":
        return FileLease(settings.lease_path, poll_s=file_poll_s)
    assert s.table is not None  # the settings refuse dynamodb without a table
    return DynamoLease(
        lease_client(s.region, timeout_s=max(1.0, s.renew_s / 2)),
        table=s.table,
        name=s.name,
        expiry_s=s.expiry_s,
        renew_s=s.renew_s,
    )


def run(
    config: Path | None = None,
    *,
    stop: threading.Event | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    lease_poll_s: float = 2.0,
    on_settings: Callable[[DaemonSettings], None] | None = None,
) -> None:
    """Run the daemon until SIGTERM/SIGINT (or ``stop`` is set). ``on_settings`` is called
    with the settings once they are read (the CLI sets up logging from them)."""
    settings = with_stack_fleets(load_settings(config), lambda region: client("ec2", region))
    if on_settings is not None:
        on_settings(settings)
    problem = mode_unavailable(settings.mode)
    if problem is not None:
        raise DaemonError(problem)
    # The status API shares the process with CPU-heavy jobs (features, planner): a shorter
    # GIL switch interval keeps its p99 low while a reconcile runs.
    switch = sys.getswitchinterval()
    sys.setswitchinterval(0.001)
    stop = stop or threading.Event()
    previous = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            previous[sig] = signal.signal(sig, lambda *_: stop.set())
    try:
        _run(settings, stop, clock, lease_poll_s)
    finally:
        sys.setswitchinterval(switch)
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _run(
    settings: DaemonSettings,
    stop: threading.Event,
    clock: Callable[[], datetime],
    lease_poll_s: float,
) -> None:
    lease = open_lease(settings, file_poll_s=lease_poll_s)
    holder = SourceHolder(StandbySource(lease.holder()))
    server = serve_api(holder, settings)
    name = lease_name(settings)
    try:
        while not lease.try_acquire(clock()):
            held_by = lease.holder()
            holder.source = StandbySource(held_by)
            log.info("standby: lease %s held by %s", name, held_by)
            if stop.wait(lease.poll_s):
                return
        token = f" with fencing token {lease.token}" if lease.token is not None else ""
        log.info("leader: took lease %s%s", name, token)
        history = _open_history(settings)
        daemon = build_daemon(settings, Ledger(history), clock=clock, lease=lease)
        try:
            daemon.start()
            holder.source = DaemonSource(daemon)
            stop.wait()
        finally:
            # The API must let go of the daemon before the history closes: DuckDB objects
            # still referenced at interpreter exit are reported by nanobind as leaks.
            holder.source = StandbySource(None)
            daemon.stop()
            history.close()
            del daemon, history
    finally:
        server.stop()
        lease.release()


def _open_history(settings: DaemonSettings) -> History:
    try:
        return open_history(settings.history_path)
    except HistoryLockedError as exc:
        # The lease did not keep a second writer out: the two daemons use different lease
        # files, or the first lost its lease file and still holds the history.
        raise DaemonError(
            f"the history {settings.history_path} is held by another process, though this "
            f"daemon holds the lease {settings.lease_path}: is another daemon running with "
            "a different lease_path, or was the lease file deleted under it? Stop it first"
        ) from exc
    except AnalyticsError as exc:
        raise DaemonError(str(exc)) from exc


class LogFormatChoice(StrEnum):
    text = "text"
    json = "json"


def register(app: typer.Typer) -> None:
    @app.command("run")
    def run_command(
        config: Annotated[
            Path | None, typer.Option(help="daemon settings (TOML); see docs/daemon.md")
        ] = None,
        log_format: Annotated[
            LogFormatChoice | None,
            typer.Option(help="text, or json: one object per line (default: log_format)"),
        ] = None,
    ) -> None:
        """Run the reconciliation daemon: collect, react, decide, scale, serve status."""
        chosen: LogFormat | None = log_format.value if log_format is not None else None
        # No credential or API token in any log line, at any level, in either format.
        configure_logging("INFO", chosen or "text")

        def from_settings(settings: DaemonSettings) -> None:
            if (chosen or settings.log_format) != "text":
                configure_logging("INFO", chosen or settings.log_format)

        try:
            run(config, on_settings=from_settings)
        except SettingsError as exc:
            for problem in exc.problems:
                typer.echo(f"error: {problem}", err=True)
            raise typer.Exit(code=2) from exc
        except (DaemonError, FileNotFoundError) as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(code=2) from exc
