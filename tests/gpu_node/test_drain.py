"""The one drain path, in-process: notices from a real local IMDS, AWS on moto's server."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest

from gpu_node.node import Node
from tests.gpu_node.aws_env import Fleet, job
from tests.gpu_node.fakes import SteppingBackend
from tests.gpu_node.harness import start_node, stop_node, wait_for
from tests.gpu_node.imds_server import FakeImds


def _spot_notice(imds: FakeImds, in_seconds: float) -> None:
    when = datetime.now(UTC) + timedelta(seconds=in_seconds)
    imds.set(
        "meta-data/spot/instance-action",
        json.dumps({"action": "terminate", "time": when.strftime("%Y-%m-%dT%H:%M:%SZ")}),
    )


def _steps_done(node: Node) -> int:
    running = node.state.current
    return running.steps_done if running is not None else 0


def test_a_spot_notice_gives_a_long_job_back_within_two_seconds(
    fleet: Fleet, imds: FakeImds
) -> None:
    backend = SteppingBackend(step_seconds=0.5)
    fleet.send(job("too-long", steps=60))  # 30 s of work against a 20 s deadline
    node = start_node(fleet, backend, imds_url=imds.url)
    wait_for(lambda: backend.started)
    wait_for(lambda: _steps_done(node) >= 2)  # the job's own pace is known
    _spot_notice(imds, in_seconds=20)
    noticed = time.monotonic()
    back = wait_for(lambda: fleet.drain_queue(fleet.queue_url), timeout=5, every=0.05)
    given_back_after = time.monotonic() - noticed
    assert wait_for(lambda: node.drain.finished.is_set(), timeout=5)
    assert node.wait() == 0
    node.close()

    assert given_back_after < 2.0
    assert json.loads(back[0]["Body"])["job_id"] == "too-long"  # nothing lost: it is back
    assert fleet.result_keys() == set()
    types = [e["type"] for e in fleet.events() if e["job_id"] == "too-long"]
    assert types[0] == "started"
    assert types[-1] == "released"
    assert "completed" not in types
    assert node.state.draining.is_set()


def test_a_job_that_ends_well_before_the_deadline_is_finished(fleet: Fleet, imds: FakeImds) -> None:
    backend = SteppingBackend(step_seconds=0.2)
    fleet.send(job("short", steps=10))  # 2 s of work against a 120 s deadline
    fleet.send(job("never-started"))
    node = start_node(fleet, backend, imds_url=imds.url)
    wait_for(lambda: backend.started)
    wait_for(lambda: _steps_done(node) >= 1)  # its pace is known: it can be judged on it
    _spot_notice(imds, in_seconds=120)
    assert wait_for(lambda: node.drain.finished.is_set(), timeout=10)
    node.close()

    assert fleet.result_keys() == {"results/short.png", "results/short.json"}
    assert backend.started == ["short"]  # draining: no new job taken
    remaining = fleet.drain_queue(fleet.queue_url)
    assert [json.loads(m["Body"])["job_id"] for m in remaining] == ["never-started"]
    assert "released" not in {e["type"] for e in fleet.events()}


def test_a_job_that_stalls_after_the_decision_to_finish_it_is_given_back(
    fleet: Fleet, imds: FakeImds
) -> None:
    backend = SteppingBackend(step_seconds=0.1, stall=(5, 6.0))
    fleet.send(job("stalls", steps=10))  # 1 s on its early pace; then step 5 hangs for 6 s
    node = start_node(fleet, backend, imds_url=imds.url, SPOTFLEET_DRAIN_MARGIN_SECONDS="3")
    wait_for(lambda: node.state.current is not None and node.state.current.steps_done >= 3)
    _spot_notice(imds, in_seconds=6)  # finish by 3 s from now, on the margin
    wait_for(lambda: node.drain.notices_seen, timeout=3)
    assert fleet.drain_queue(fleet.queue_url) == []  # on pace: kept, to be finished
    noticed = time.monotonic()
    back = wait_for(lambda: fleet.drain_queue(fleet.queue_url), timeout=6, every=0.05)
    assert time.monotonic() - noticed < 4.5  # released once the stall broke the projection
    assert json.loads(back[0]["Body"])["job_id"] == "stalls"
    assert wait_for(lambda: node.drain.finished.is_set(), timeout=10)
    node.close()
    assert fleet.result_keys() == set()
    assert [e["type"] for e in fleet.events() if e["job_id"] == "stalls"][-1] == "released"


def test_a_rebalance_recommendation_is_reported_and_work_goes_on(
    fleet: Fleet, imds: FakeImds
) -> None:
    backend = SteppingBackend()
    node = start_node(fleet, backend, imds_url=imds.url)
    try:
        imds.set(
            "meta-data/events/recommendations/rebalance", '{"noticeTime": "2026-11-22T11:50:00Z"}'
        )
        wait_for(lambda: node.drain.notices_seen)
        fleet.send(job("after-rebalance"))
        wait_for(lambda: "results/after-rebalance.json" in fleet.result_keys())
        assert not node.state.draining.is_set()
        assert b'spotfleet_interruption_notices_total{kind="rebalance_recommendation"} 1.0' in (
            node.metrics.render()
        )
    finally:
        assert stop_node(node) == 0


class _AutoScaling:
    """A stand-in for the Auto Scaling endpoint (moto lacks CompleteLifecycleAction)."""

    def __init__(self) -> None:
        self.calls: list[dict[str, list[str]]] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                recorder.calls.append(parse_qs(self.rfile.read(length).decode()))
                body = (
                    b'<CompleteLifecycleActionResponse xmlns="http://autoscaling.amazonaws.com/'
                    b'doc/2011-01-01/"><CompleteLifecycleActionResult/><ResponseMetadata>'
                    b"<RequestId>1</RequestId></ResponseMetadata></CompleteLifecycleActionResponse>"
                )
                self.send_response(200)
                self.send_header("Content-Type", "text/xml")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()


@pytest.fixture
def autoscaling(monkeypatch: pytest.MonkeyPatch) -> Iterator[_AutoScaling]:
    endpoint = _AutoScaling()
    monkeypatch.setenv("AWS_ENDPOINT_URL_AUTO_SCALING", endpoint.url)
    yield endpoint
    endpoint.server.shutdown()


def test_the_group_terminating_the_node_drains_it_and_completes_the_lifecycle_action(
    fleet: Fleet, imds: FakeImds, autoscaling: _AutoScaling
) -> None:
    backend = SteppingBackend(step_seconds=0.5)
    fleet.send(job("cut-short", steps=60))
    node = start_node(
        fleet,
        backend,
        imds_url=imds.url,
        SPOTFLEET_LIFECYCLE_HOOK="drain-hook",
        SPOTFLEET_ASG_NAME="gpu-fleet-asg",
        SPOTFLEET_DRAIN_DEADLINE_SECONDS="20",
    )
    wait_for(lambda: backend.started)
    wait_for(lambda: _steps_done(node) >= 2)
    imds.set("meta-data/autoscaling/target-lifecycle-state", "Terminated")
    assert wait_for(lambda: node.drain.finished.is_set(), timeout=8)
    node.close()

    assert fleet.drain_queue(fleet.queue_url)  # given back, not lost
    assert len(autoscaling.calls) == 1
    call = autoscaling.calls[0]
    assert call["Action"] == ["CompleteLifecycleAction"]
    assert call["LifecycleHookName"] == ["drain-hook"]
    assert call["AutoScalingGroupName"] == ["gpu-fleet-asg"]
    assert call["InstanceId"] == ["i-inprocess"]
    assert call["LifecycleActionResult"] == ["CONTINUE"]


def test_a_spot_notice_does_not_complete_a_lifecycle_action(
    fleet: Fleet, imds: FakeImds, autoscaling: _AutoScaling
) -> None:
    node = start_node(
        fleet,
        SteppingBackend(),
        imds_url=imds.url,
        SPOTFLEET_LIFECYCLE_HOOK="drain-hook",
        SPOTFLEET_ASG_NAME="gpu-fleet-asg",
    )
    _spot_notice(imds, in_seconds=100)
    assert wait_for(lambda: node.drain.finished.is_set(), timeout=8)
    node.close()
    assert autoscaling.calls == []
