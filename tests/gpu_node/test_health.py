"""The health API over real HTTP (uvicorn on a free port), with a fake model."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from gpu_node.health import BackendSlot, HealthServer, build_app
from gpu_node.jobs import parse_job
from gpu_node.metrics import NodeMetrics
from gpu_node.queues import Delivery
from gpu_node.state import NodeState, RunningJob
from tests.gpu_node.aws_env import free_port, job
from tests.gpu_node.fakes import SteppingBackend
from tests.gpu_node.harness import IDENTITY


class Api:
    def __init__(self) -> None:
        self.state = NodeState()
        self.metrics = NodeMetrics()
        self.slot = BackendSlot()
        app = build_app(
            state=self.state,
            metrics=self.metrics,
            identity=IDENTITY,
            slot=self.slot,
            gpu_lock=threading.Lock(),
        )
        port = free_port()
        self.server = HealthServer(app, host="127.0.0.1", port=port)
        self.base = f"http://127.0.0.1:{port}"


@pytest.fixture
def api() -> Iterator[Api]:
    served = Api()
    served.server.start()
    yield served
    served.server.stop()


def test_health_says_starting_until_the_model_is_loaded(api: Api) -> None:
    body = httpx.get(f"{api.base}/health").json()
    assert body["status"] == "starting"
    assert body["model_loaded"] is False
    assert body["pool"] == IDENTITY.pool
    assert httpx.post(f"{api.base}/generate", json=job("x")).status_code == 503


def test_health_shows_the_current_job_and_the_drain(api: Api) -> None:
    api.slot.backend = SteppingBackend()
    api.state.model_loaded = True
    delivery = Delivery(
        queue_url="q",
        priority=False,
        message_id="m",
        receipt_handle="r",
        body="",
        receive_count=1,
        sent_at=None,
    )
    running = RunningJob(
        delivery=delivery,
        job=parse_job('{"job_id":"j-7","prompt":"p","width":64,"height":64,"steps":10,"seed":1}'),
        started_at=datetime.now(UTC),
        started_mono=0.0,
    )
    running.record_step(3, 1.0)
    assert api.state.begin(running)
    body = httpx.get(f"{api.base}/health").json()
    assert body["status"] == "ok"
    assert body["current_job"]["job_id"] == "j-7"
    assert body["current_job"]["step"] == 3
    assert body["current_job"]["total_steps"] == 10

    api.state.start_draining()
    body = httpx.get(f"{api.base}/health").json()
    assert body["status"] == "draining"
    assert body["draining"] is True
    assert httpx.post(f"{api.base}/generate", json=job("x")).status_code == 503


def test_generate_returns_the_png_and_refuses_jobs_outside_the_limits(api: Api) -> None:
    backend = SteppingBackend()
    api.slot.backend = backend
    api.state.model_loaded = True
    reply = httpx.post(f"{api.base}/generate", json=job("direct"))
    assert reply.status_code == 200
    assert reply.headers["content-type"] == "image/png"
    assert reply.content == backend.png
    assert httpx.post(f"{api.base}/generate", json=job("big", width=4096)).status_code == 422
    failed = httpx.post(f"{api.base}/generate", json=job("boom", prompt="please fail"))
    assert failed.status_code == 500
    assert "failed as asked" in failed.json()["detail"]


def test_metrics_are_prometheus_text_with_every_outcome_from_zero(api: Api) -> None:
    api.metrics.jobs.labels(outcome="completed").inc()
    api.metrics.drains.labels(kind="spot_interruption_warning").inc()
    text = httpx.get(f"{api.base}/metrics").text
    assert 'spotfleet_jobs_total{outcome="completed"} 1.0' in text
    assert 'spotfleet_jobs_total{outcome="released"} 0.0' in text
    assert 'spotfleet_drains_total{kind="spot_interruption_warning"} 1.0' in text
    assert "spotfleet_queue_wait_seconds_bucket" in text
    assert "spotfleet_job_seconds_bucket" in text


def test_the_api_listens_on_loopback_by_default() -> None:
    from gpu_node.settings import NodeSettings

    settings = NodeSettings(queue_url="q", results_bucket="b")
    assert settings.host == "127.0.0.1"
