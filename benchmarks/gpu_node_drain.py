"""From a spot interruption notice to the running job given back (visible in the queue again).

An in-process node (production wiring) polls a local IMDSv2 server; a long job runs; the
notice appears; the clock stops when another consumer can receive the job.
Run: ``.venv/bin/python -m benchmarks.gpu_node_drain [ROUNDS]``. Target: under 2 s.
"""

from __future__ import annotations

import json
import random
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from benchmarks.gpu_node_support import REGION, describe, make_fleet, start_moto
from gpu_node.aws import make_clients
from gpu_node.backend import OnStep
from gpu_node.identity import NodeIdentity
from gpu_node.imds import ImdsClient
from gpu_node.jobs import Job
from gpu_node.node import Node


class SlowFakeBackend:
    """A fake model at 0.2 s per step: long enough that a 150-step job outlives any notice."""

    model_name = "fixed-image-fake"

    def generate(self, job: Job, on_step: OnStep) -> bytes:
        for step in range(1, job.steps + 1):
            time.sleep(0.2)
            on_step(step, job.steps)
        return b"never stored"


class Imds:
    def __init__(self) -> None:
        self.notice: str | None = None
        imds = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_PUT(self) -> None:
                self._reply(200, "token")

            def do_GET(self) -> None:
                if self.path == "/latest/meta-data/spot/instance-action" and imds.notice:
                    self._reply(200, imds.notice)
                else:
                    self._reply(404, "")

            def _reply(self, status: int, body: str) -> None:
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body.encode())

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def one_round(endpoint: str) -> float:
    fleet = make_fleet(endpoint)
    imds = Imds()
    node = Node(
        settings=fleet.settings(),
        identity=NodeIdentity(
            instance_id="i-bench",
            instance_type="g5.xlarge",
            availability_zone="us-east-1a",
            region=REGION,
        ),
        clients=make_clients(region=REGION),
        imds=ImdsClient(base_url=imds.url),
    )
    node.watch()
    node.load(SlowFakeBackend())
    node.start_worker()
    fleet.send_jobs(1, prefix="drain", steps=150)
    while node.state.current is None or node.state.current.steps_done < 3:
        time.sleep(0.05)
    time.sleep(random.random())  # any phase of the watcher's 1 s poll, not always the same one
    deadline = datetime.now(UTC) + timedelta(seconds=30)
    imds.notice = json.dumps({"action": "terminate", "time": deadline.isoformat()})
    noticed = time.perf_counter()
    while True:
        got = fleet.sqs.receive_message(QueueUrl=fleet.queue_url, WaitTimeSeconds=0)
        if got.get("Messages"):
            given_back = time.perf_counter() - noticed
            break
        time.sleep(0.02)
    node.drain.finished.wait(10)
    node.close()
    imds.server.shutdown()
    return given_back


def main(rounds: int = 5) -> None:
    server, endpoint = start_moto()
    try:
        samples = [one_round(endpoint) for _ in range(rounds)]
        print(f"spot notice -> running job given back (IMDS polled every 1 s): {describe(samples)}")
    finally:
        server.stop()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
