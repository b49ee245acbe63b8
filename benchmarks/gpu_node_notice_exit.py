"""From the spot notice to the node process gone, for an idle node and for a busy one.

Real node processes (``run_node``, fixed-image fake model) with production's 20 s SQS long
poll, one local moto server and the local IMDS. Idle: the node has finished its work and sits
in its long poll. Busy: a 150-step job (0.2 s a step, 30 s) runs when a notice with 30 s left
arrives, so the drain gives it back. The clock runs from writing the notice to the exit.
Run: ``.venv/bin/python -m benchmarks.gpu_node_notice_exit [ROUNDS]``. Target: idle under 3 s.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from benchmarks.gpu_node_support import BenchFleet, describe, free_port, make_fleet, start_moto
from gpu_node.localimds import LocalImds

ROOT = Path(__file__).resolve().parents[1]


def _start(fleet: BenchFleet, imds: LocalImds, name: str) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    url = imds.add(name, instance_type="g5.xlarge", zone="us-east-1a")
    env = {
        **os.environ,
        **fleet.env(
            SPOTFLEET_INSTANCE_ID=name,
            SPOTFLEET_PORT=str(port),
            SPOTFLEET_POLL_WAIT_SECONDS="20",
            SPOTFLEET_IMDS_URL=url,
        ),
        "BENCH_STEP_SECONDS": "0.2",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.gpu_node_fake_node"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return process, port


def _health(port: int) -> dict[str, object] | None:
    try:
        body = httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).json()
    except httpx.HTTPError:
        return None
    return body if isinstance(body, dict) else None


def _wait(condition: str, check: Callable[[], object], timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {condition}")
        time.sleep(0.05)


def one_round(fleet: BenchFleet, imds: LocalImds, name: str, *, busy: bool) -> float:
    process, port = _start(fleet, imds, name)
    try:
        _wait("the model to load", lambda: (_health(port) or {}).get("model_loaded"))
        fleet.send_jobs(1, prefix=name, steps=150 if busy else 2)
        if busy:

            def stepping() -> bool:
                current = (_health(port) or {}).get("current_job")
                return isinstance(current, dict) and int(current["step"]) >= 3

            _wait("the job to take steps", stepping)
        else:
            _wait("the job's result", lambda: fleet.result_count() == 2)
        imds.spot_interruption(name, datetime.now(UTC) + timedelta(seconds=30))
        noticed = time.perf_counter()
        process.wait(timeout=60)
        return time.perf_counter() - noticed
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def main(rounds: int = 3) -> None:
    server, endpoint = start_moto()
    imds = LocalImds().start()
    try:
        idle = [
            one_round(make_fleet(endpoint), imds, f"i-idle-{n}", busy=False) for n in range(rounds)
        ]
        busy = [
            one_round(make_fleet(endpoint), imds, f"i-busy-{n}", busy=True) for n in range(rounds)
        ]
        print(f"spot notice -> idle node exited (20 s long poll): {describe(idle, 's', 1.0)}")
        print(f"spot notice -> busy node exited (job given back): {describe(busy, 's', 1.0)}")
    finally:
        imds.stop()
        server.stop()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
