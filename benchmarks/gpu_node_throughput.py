"""Plumbing throughput: 10 node processes with the fixed-image fake backend, one local moto
server, every job through the whole path (receive, validate, store, delete, events).

Run: ``.venv/bin/python -m benchmarks.gpu_node_throughput [JOBS] [PROCESSES]``.
Target: at least 1000 jobs per minute.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from benchmarks.gpu_node_support import free_port, make_fleet, start_moto

ROOT = Path(__file__).resolve().parents[1]
BACKLOG = 100


def main(jobs: int = 1500, processes: int = 10) -> None:
    server, endpoint = start_moto()
    nodes: list[subprocess.Popen[bytes]] = []
    try:
        fleet = make_fleet(endpoint)
        ports = [free_port() for _ in range(processes)]
        for n, port in enumerate(ports):
            env = {
                **os.environ,
                **fleet.env(SPOTFLEET_INSTANCE_ID=f"i-bench-{n}", SPOTFLEET_PORT=str(port)),
                "SPOTFLEET_IMDS_URL": "http://127.0.0.1:9",  # nothing there: no notices
            }
            nodes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "benchmarks.gpu_node_fake_node"],
                    cwd=ROOT,
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        for port in ports:  # every node up and its model "loaded" before the clock starts
            _wait_healthy(port)
        print(f"{processes} node processes up; feeding {jobs} jobs, backlog up to {BACKLOG}")
        started = time.perf_counter()
        sent = 0
        # A steady backlog, as a busy fleet sees: moto's queue operations walk every queued
        # message, so dumping all jobs at once would measure moto's slowdown, not the nodes.
        while sent < jobs:
            if fleet.in_flight() < BACKLOG:
                batch = min(50, jobs - sent)
                fleet.send_jobs(batch, prefix=f"tp-{sent}")
                sent += batch
            else:
                time.sleep(0.05)
        while fleet.in_flight() > 0:
            time.sleep(0.2)
        elapsed = time.perf_counter() - started
        results = fleet.result_count()
        assert results == 2 * jobs, f"{results} result objects for {jobs} jobs"
        print(
            f"throughput: {jobs} jobs in {elapsed:.1f} s = {jobs / elapsed * 60:.0f} jobs/min "
            f"({processes} node processes, one moto server, job events on)"
        )
    finally:
        for node in nodes:
            node.send_signal(signal.SIGTERM)
        for node in nodes:
            try:
                node.wait(timeout=20)
            except subprocess.TimeoutExpired:
                node.kill()
        server.stop()


def _wait_healthy(port: int, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).json()["model_loaded"]:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    raise RuntimeError(f"node on port {port} did not become healthy")


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    main(*args)
