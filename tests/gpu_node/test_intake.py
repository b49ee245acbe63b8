"""Intake stops at once on a notice: the long poll is sliced, and what it caught is given back."""

from __future__ import annotations

import json
import threading
import time

from gpu_node.aws import make_clients
from gpu_node.node import Node
from gpu_node.queues import INTAKE_SLICE_SECONDS, JobQueues
from tests.gpu_node.aws_env import REGION, Fleet, job
from tests.gpu_node.fakes import SteppingBackend
from tests.gpu_node.harness import IDENTITY, settings_for


def _queues(fleet: Fleet, wait: int) -> JobQueues:
    return JobQueues(
        sqs=fleet.clients.sqs,
        queue_url=fleet.queue_url,
        priority_queue_url=fleet.priority_queue_url,
        dead_letter_queue_url=None,
        wait_seconds=wait,
        visibility_seconds=30,
    )


def test_a_20_second_long_poll_ends_within_a_slice_of_the_stop(fleet: Fleet) -> None:
    queues = _queues(fleet, wait=20)
    stop = threading.Event()
    threading.Timer(0.3, stop.set).start()
    started = time.monotonic()
    assert queues.receive(stop=stop) is None
    took = time.monotonic() - started
    queues.close()
    assert took < 0.3 + INTAKE_SLICE_SECONDS + 1.0, f"took {took:.1f} s"


def test_a_sliced_poll_still_waits_its_whole_wait_and_takes_a_job_sent_meanwhile(
    fleet: Fleet,
) -> None:
    queues = _queues(fleet, wait=4)
    threading.Timer(1.5, lambda: fleet.send(job("late"))).start()
    delivery = queues.receive(stop=threading.Event())
    queues.close()
    assert delivery is not None
    assert json.loads(delivery.body)["job_id"] == "late"


def test_a_message_received_after_the_notice_is_given_back_unstarted(fleet: Fleet) -> None:
    node = Node(
        settings=settings_for(fleet),
        identity=IDENTITY,
        clients=make_clients(region=REGION),
        imds=None,
    )
    backend = SteppingBackend()
    node.load(backend)
    worker = node.build_worker()
    fleet.send(job("caught-by-the-last-poll"))
    delivery = node.queues.receive()
    assert delivery is not None
    node.state.start_draining()  # the notice lands while the poll was out
    worker.handle(delivery)
    node.close()

    back = fleet.drain_queue(fleet.queue_url)  # visible again at once: visibility 0
    assert [json.loads(m["Body"])["job_id"] for m in back] == ["caught-by-the-last-poll"]
    assert backend.started == []
