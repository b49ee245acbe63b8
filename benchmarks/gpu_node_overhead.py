"""Per-job overhead outside the model: receive (priority, then standard), validate, store the
result, delete the message, publish the events; against a local moto server.

Run: ``.venv/bin/python -m benchmarks.gpu_node_overhead [JOBS]``. Target: median under 50 ms.
"""

from __future__ import annotations

import sys
import time

from benchmarks.gpu_node_support import (
    REGION,
    FixedImageFakeBackend,
    describe,
    make_fleet,
    start_moto,
)
from gpu_node.aws import make_clients
from gpu_node.identity import NodeIdentity
from gpu_node.node import Node


def main(jobs: int = 200) -> None:
    server, endpoint = start_moto()
    try:
        fleet = make_fleet(endpoint)
        settings = fleet.settings()
        identity = NodeIdentity(
            instance_id="i-bench",
            instance_type="g5.xlarge",
            availability_zone="us-east-1a",
            region=REGION,
        )
        node = Node(
            settings=settings, identity=identity, clients=make_clients(region=REGION), imds=None
        )
        node.load(FixedImageFakeBackend())
        worker = node.build_worker()
        warmup = 20
        samples = []
        for n in range(jobs + warmup):
            # One job in the queue at a time: moto's receive walks every queued message, so a
            # deep queue would measure moto, not the node (real SQS does not slow down so).
            fleet.send_jobs(1, prefix=f"overhead-{n}")
            started = time.perf_counter()
            delivery = node.queues.receive()
            assert delivery is not None
            worker.handle(delivery)
            if n >= warmup:  # connection pools and moto's first-call costs are not per-job
                samples.append(time.perf_counter() - started)
        node.close()
        assert fleet.in_flight() == 0
        assert fleet.result_count() == 2 * (jobs + warmup)
        print(
            f"per-job overhead outside the model ({jobs} jobs, events on, priority queue on): "
            f"{describe(samples)}"
        )
        # The floor on this machine: one trivial request to the same server. A job needs five
        # in a row (priority look, receive, two parallel puts, delete); events go off-path.
        baseline = []
        for _ in range(50):
            started = time.perf_counter()
            fleet.sqs.get_queue_attributes(QueueUrl=fleet.queue_url, AttributeNames=["QueueArn"])
            baseline.append(time.perf_counter() - started)
        print(f"one trivial SQS request to the same server, for scale: {describe(baseline)}")
    finally:
        server.stop()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
