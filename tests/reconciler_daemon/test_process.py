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
        f'lease_path = "{tmp_path / "daemon.lease"}"\n{extra}'
    )
    return config


@contextmanager
def daemon_process(
    config: Path, env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen[str]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "reconciler", "run", "--config", str(config)],
        cwd=ROOT,
        env=env or daemon_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=30)


def wait_ready(port: int, proc: subprocess.Popen[str], *, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        assert proc.poll() is None, proc.communicate()[1][-3000:]
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
        _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 0, stderr[-3000:]
    assert "leaked" not in stderr, stderr[-3000:]
