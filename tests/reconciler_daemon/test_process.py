"""The daemon as an operator runs it: ``python -m reconciler run`` in a process of its own,
stopped with SIGTERM, its stderr read whole."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from .conftest import free_port

ROOT = Path(__file__).resolve().parents[2]


def daemon_env(**extra: str) -> dict[str, str]:
    """The test's environment without any SPOTFLEET_DAEMON_* of the caller's, this checkout
    first on the path."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPOTFLEET_DAEMON_")}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    env.update(extra)
    return env


def write_config(tmp_path: Path, port: int, extra: str = "") -> Path:
    config = tmp_path / "daemon.toml"
    config.write_text(
        f'api_port = {port}\nhistory_path = "{tmp_path / "history.duckdb"}"\n'
        f'lease_path = "{tmp_path / "daemon.lease"}"\n'
        # moto's server implements neither GetSpotPlacementScores nor pricing's GetProducts,
        # and this machine may not reach AWS's Spot Advisor file.
        f'placement_scores = false\npricing_api = false\nadvisor_source = ""\n{extra}'
    )
    return config


@dataclass
class DaemonProcess:
    proc: subprocess.Popen[bytes]
    log: Path  # stdout and stderr: a file, not a pipe nobody reads while it runs

    def poll(self) -> int | None:
        return self.proc.poll()

    def send_signal(self, sig: int) -> None:
        self.proc.send_signal(sig)

    def finish(self, timeout_s: float = 60.0) -> str:
        """Wait for the exit; what it wrote."""
        self.proc.wait(timeout_s)
        return self.log.read_text()

    @property
    def returncode(self) -> int | None:
        return self.proc.returncode


@contextmanager
def daemon_process(config: Path, env: dict[str, str] | None = None) -> Iterator[DaemonProcess]:
    log = config.with_suffix(".log")
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "reconciler", "run", "--config", str(config)],
            cwd=ROOT,
            env=env or daemon_env(),
            stdout=out,
            stderr=out,
        )
    running = DaemonProcess(proc, log)
    try:
        yield running
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(30)


def wait_ready(port: int, proc: DaemonProcess, *, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        assert proc.poll() is None, proc.finish()[-3000:]
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, "the daemon never became ready"
        time.sleep(0.1)


def test_a_daemon_stopped_with_sigterm_exits_cleanly_without_leak_reports(tmp_path: Path) -> None:
    port = free_port()
    with daemon_process(write_config(tmp_path, port)) as proc:
        wait_ready(port, proc)
        # The status API read the history too, so its connection has been used from a
        # second thread before the daemon is stopped.
        assert httpx.get(f"http://127.0.0.1:{port}/decisions", timeout=5).status_code == 200
        proc.send_signal(signal.SIGTERM)
        stderr = proc.finish()
    assert proc.returncode == 0, stderr[-3000:]
    assert "leaked" not in stderr, stderr[-3000:]


def test_a_second_daemon_on_a_held_history_says_so_in_one_line(tmp_path: Path) -> None:
    port = free_port()
    with daemon_process(write_config(tmp_path, port)) as first:
        wait_ready(port, first)
        # Its own lease file, so it takes a lease; the history is the first one's.
        second_dir = tmp_path / "second"
        second_dir.mkdir()
        config = second_dir / "daemon.toml"
        config.write_text(
            f'api_port = {free_port()}\nhistory_path = "{tmp_path / "history.duckdb"}"\n'
            f'lease_path = "{second_dir / "daemon.lease"}"\n'
        )
        with daemon_process(config) as second:
            stderr = second.finish()
    assert second.returncode == 2, stderr[-3000:]
    assert "Traceback" not in stderr
    errors = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "is held by another process" in errors[0], stderr[-3000:]


def test_a_daemon_in_pulumi_mode_without_the_cli_refuses_to_start(tmp_path: Path) -> None:
    config = write_config(tmp_path, free_port(), 'mode = "pulumi"\n')
    env = daemon_env(PATH=str(Path(sys.executable).parent))  # python, and no pulumi
    with daemon_process(config, env) as proc:
        stderr = proc.finish()
    assert proc.returncode == 2
    assert stderr.strip().splitlines()[-1].startswith("error: mode 'pulumi' needs the Pulumi CLI")
    assert not (tmp_path / "daemon.lease").exists()
