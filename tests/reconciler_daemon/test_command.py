"""The command the lead wires into the shared CLI, and the jobs not covered elsewhere."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from analytics.export import open_export
from reconciler.core.errors import DaemonError
from reconciler.core.history.ledger import Ledger
from reconciler.core.settings import DaemonSettings
from reconciler.daemon.command import register
from reconciler.daemon.daemon import Daemon
from tests.history_rows import history_rows

from .conftest import Clock, seed_market
from .helpers import FLEET, RecordingActuator, add_nodes


def test_register_adds_run_to_a_typer_app() -> None:
    app = typer.Typer()
    register(app)

    @app.command()
    def other() -> None:  # a second command, as in the shared CLI
        pass

    result = CliRunner().invoke(app, ["run", "--help"])
    assert result.exit_code == 0 and "--config" in result.output


def test_a_missing_config_file_fails_before_anything_starts(tmp_path: Path) -> None:
    app = typer.Typer()
    register(app)
    app.command()(lambda: None)
    result = CliRunner().invoke(app, ["run", "--config", str(tmp_path / "nope.toml")])
    assert result.exit_code != 0
    assert not (tmp_path / "var").exists()


def test_export_writes_the_history_as_parquet_and_failures_are_recorded(
    ledger: Ledger, tmp_path: Path
) -> None:
    clock = Clock()
    seed_market(ledger, FLEET, now=clock())
    add_nodes(ledger)
    daemon = Daemon(
        settings=DaemonSettings(fleets=(FLEET,), export_dir=tmp_path / "export"),
        ledger=ledger,
        actuators={"shadow": RecordingActuator(), "pulumi": RecordingActuator()},
        clock=clock,
    )
    daemon.reconcile()
    daemon.export()
    with open_export(tmp_path / "export") as con:
        assert con.execute("SELECT count(*) FROM decisions").fetchall() == [(1,)]
    daemon._record_failure("prices", "AwsCallError: ec2:DescribeSpotPriceHistory: Throttling")
    assert history_rows(
        ledger, "SELECT kind, target, status FROM fleet_actions WHERE fleet = '*'"
    ) == [("job_failed", "prices", "failed")]


def test_a_taken_api_port_stops_the_daemon_before_it_takes_the_lease(tmp_path: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        config = tmp_path / "daemon.toml"
        config.write_text(f'api_port = {port}\nlease_path = "{tmp_path / "lease"}"\n')
        app = typer.Typer()
        register(app)
        app.command()(lambda: None)
        result = CliRunner().invoke(app, ["run", "--config", str(config)])
    assert result.exit_code == 2 and "could not listen" in result.output
    assert not (tmp_path / "lease").exists()


def test_a_mode_without_its_actuator_is_refused_at_start(ledger: Ledger) -> None:
    with pytest.raises(DaemonError, match="'local' is the embedded default's"):
        Daemon(
            settings=DaemonSettings(fleets=(FLEET,), mode="local"),
            ledger=ledger,
            actuators={"shadow": RecordingActuator(), "pulumi": RecordingActuator()},
        )
