"""The embedded default end to end: ``python -m reconciler demo`` as a user runs it.

Each test runs the real command in its own process (moto's server, node processes, the
daemon and its API all real), marked by an environment variable every process it starts
inherits, so the test can see that none outlives it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.slow


def _marked(marker: str) -> list[int]:
    """Processes whose environment carries ``marker`` (everything the demo started)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            if marker.encode() in (proc / "environ").read_bytes():
                found.append(int(proc.name))
        except OSError:  # gone, or not ours to read
            continue
    return found


def _demo(tmp_path: Path, data: Path, *flags: str) -> tuple[subprocess.Popen[str], str]:
    marker = f"SPOTFLEET_TEST_RUN={uuid.uuid4().hex}"
    key, value = marker.split("=")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "reconciler",
            "demo",
            "--data",
            str(data),
            "--out",
            str(tmp_path / "demo"),
            "--port",
            "0",
            *flags,
        ],
        cwd=REPO,
        env={**os.environ, key: value, "COLUMNS": "200"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    return process, marker


def test_a_short_run_serves_every_job_through_preemptions(
    tmp_path: Path, public_data: Path
) -> None:
    summary_path = tmp_path / "summary.json"
    process, marker = _demo(
        tmp_path,
        public_data,
        "--duration",
        "30",
        "--speed",
        "3",  # 90 ticks: the first capacity drops of us-west-2 after day 7 are at ticks 59, 85
        "--job-rate",
        "90",
        "--summary-json",
        str(summary_path),
    )
    output, _ = process.communicate(timeout=280)
    assert process.returncode == 0, output[-3000:]
    assert _marked(marker) == [], "the demo left processes behind"

    s = json.loads(summary_path.read_text())
    assert s["jobs_lost"] == 0
    assert s["jobs_pending"] == 0
    malformed = s["malformed_jobs"]
    assert malformed >= 3 and s["jobs_submitted"] >= 40
    # Every valid job has its result; every malformed one is dead-lettered with its reason.
    assert s["jobs_completed"] == s["jobs_submitted"] - malformed
    assert s["valid_jobs_dead_lettered"] == 0
    assert s["jobs_dead_lettered"] == malformed == s["malformed_dead_lettered_with_reason"]
    # The market took nodes back, and the daemon heard every notice.
    assert s["preemptions"] >= 1
    assert s["interruption_events"] == s["preemptions"]
    # The daemon decided, explained every decision, and placed the fleet at least once.
    assert s["decisions"] >= 3 and s["decisions_without_reason"] == 0
    assert s["decisions_applied"] >= 1
    assert 0 < s["cost_ratio"] < 1
    assert 0 < s["mean_ready_fraction"] <= 1
    assert "jobs lost" in output and "history:" in output

    # The analyst's commands work on what it left.
    history = s["history"]
    for args in (
        ["--db", history, "query", "savings"],
        ["--export", s["export"], "query", "decisions-over-time"],
    ):
        done = subprocess.run(
            [sys.executable, "-m", "analytics", *args],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stdout + done.stderr


def test_ctrl_c_stops_cleanly_with_a_summary_and_the_status_page_was_up(
    tmp_path: Path, public_data: Path
) -> None:
    process, marker = _demo(tmp_path, public_data, "--duration", "600")
    assert process.stdout is not None
    url = None
    deadline = time.monotonic() + 180
    for line in process.stdout:
        if "status page http" in line:
            url = line.rsplit(" ", 1)[1].strip()
            break
        assert time.monotonic() < deadline, "the daemon did not come up"
    assert url is not None, "the demo ended before its daemon came up"
    time.sleep(5)
    page = httpx.get(url, timeout=10)
    status = httpx.get(f"{url}status", timeout=10).json()
    process.send_signal(signal.SIGINT)
    output, _ = process.communicate(timeout=120)

    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert status["mode"] == "local"
    assert status["embedded"]["jobs submitted"] >= 1
    assert process.returncode == 0, output[-3000:]
    assert "jobs lost" in output and "stopped early" in output
    assert _marked(marker) == [], "Ctrl-C left processes behind"
