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

import duckdb
import httpx
import pytest
from playwright.sync_api import expect

from tests.browser import chromium
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
        ["--db", history, "report", str(tmp_path / "report.html")],
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
    assert (tmp_path / "report.html").stat().st_size > 10_000

    # The placement scores the local EC2 gave (moto has none), each zone named by a price.
    with duckdb.connect(history, read_only=True) as con:
        rows, named, low, high = con.execute(
            "SELECT count(*), count(zone), min(score), max(score) FROM placement_scores"
        ).fetchall()[0]
        # Only what AWS would give a daemon: no capacity number in the history (issue 13).
        capacity_rows = con.execute("SELECT count(*) FROM capacity_observations").fetchall()
    assert rows > 0 and named > 0 and 1 <= low <= high <= 10
    assert capacity_rows == [(0,)]


def test_ctrl_c_stops_cleanly_with_a_summary_and_the_status_page_shows_the_run(
    tmp_path: Path, public_data: Path
) -> None:
    process, marker = _demo(tmp_path, public_data, "--duration", "600")
    try:
        url = _status_url(process)
        deadline = time.monotonic() + 90
        while True:  # until nodes are up and serving
            status = httpx.get(f"{url}status", timeout=10).json()
            if status["embedded"]["jobs done"] >= 1 or time.monotonic() > deadline:
                break
            time.sleep(1)
        errors: list[str] = []
        with chromium() as browser:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.goto(url)
            for heading in (
                "Run",
                "Fleet by pool",
                "Recent decisions",
                "Placement score over time",
            ):
                expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
            for label in ("jobs submitted", "jobs done", "jobs dead-lettered", "jobs lost"):
                expect(page.get_by_text(label, exact=True)).to_be_visible()
            expect(page.get_by_text("us-west-2").first).to_be_visible()
            # The embedded history holds scores, not capacity: the chart draws them (issue 13).
            expect(page.locator("section.scores path.series.score").first).to_be_visible()
            page.screenshot(path=str(tmp_path / "status.png"), full_page=True)
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    assert errors == []
    assert status["mode"] == "local"
    run = status["embedded"]
    assert run["jobs submitted"] >= 1 and run["jobs done"] >= 1 and run["jobs lost"] == 0
    assert process.returncode == 0, output[-3000:]
    assert "jobs lost" in output and "stopped early" in output
    assert _marked(marker) == [], "Ctrl-C left processes behind"


def _status_url(process: subprocess.Popen[str]) -> str:
    assert process.stdout is not None
    deadline = time.monotonic() + 180
    for line in process.stdout:
        if "status page http" in line:
            return line.rsplit(" ", 1)[1].strip()
        assert time.monotonic() < deadline, "the daemon did not come up"
    raise AssertionError("the demo ended before its daemon came up")
