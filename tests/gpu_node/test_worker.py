"""The worker, in-process against moto's server: flow, priority, bad input, faults."""

from __future__ import annotations

import json
import time

import pytest

from gpu_node.jobs import Job, parse_job
from gpu_node.results import ResultStore
from tests.gpu_node.aws_env import Fleet, job, make_fleet
from tests.gpu_node.fakes import SteppingBackend
from tests.gpu_node.harness import IDENTITY, start_node, stop_node, wait_for


def _in_flight(fleet: Fleet, url: str) -> int:
    attrs = fleet.clients.sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"]) + int(
        attrs["ApproximateNumberOfMessagesNotVisible"]
    )


def test_jobs_flow_from_queue_to_result_and_the_message_is_deleted(fleet: Fleet) -> None:
    backend = SteppingBackend()
    for n in range(3):
        fleet.send(job(f"flow-{n}", seed=n))
    node = start_node(fleet, backend)
    try:
        wait_for(lambda: len(fleet.result_keys()) == 6)
        wait_for(lambda: _in_flight(fleet, fleet.queue_url) == 0)
    finally:
        assert stop_node(node) == 0

    assert fleet.result_keys() == {
        f"results/flow-{n}.{ext}" for n in range(3) for ext in ("png", "json")
    }
    png = fleet.clients.s3.get_object(Bucket=fleet.bucket, Key="results/flow-1.png")["Body"].read()
    assert png == backend.png
    record = fleet.result_record("flow-1")
    assert record["job_id"] == "flow-1"
    assert record["node"] == IDENTITY.instance_id
    assert record["instance_type"] == "g5.xlarge"
    assert record["pool"] == "us-east-1/us-east-1a/g5.xlarge"
    assert record["model"] == "fake-model"
    assert record["seed"] == 1
    assert record["timings"]["generate_seconds"] >= 0
    assert record["timings"]["queued_at"] is not None

    events = fleet.events()
    by_job = {(e["job_id"], e["type"]) for e in events}
    for n in range(3):
        assert (f"flow-{n}", "started") in by_job
        assert (f"flow-{n}", "completed") in by_job
    completed = [e for e in events if e["type"] == "completed"]
    assert all(e["pool"] == IDENTITY.pool and e["seconds"] is not None for e in completed)


def test_the_priority_queue_goes_first(fleet: Fleet) -> None:
    backend = SteppingBackend()
    for n in range(3):
        fleet.send(job(f"standard-{n}"))
    for n in range(3):
        fleet.send(job(f"priority-{n}"), priority=True)
    node = start_node(fleet, backend)
    try:
        wait_for(lambda: len(backend.started) == 6)
    finally:
        stop_node(node)
    assert {j for j in backend.started[:3]} == {f"priority-{n}" for n in range(3)}


def test_invalid_jobs_reach_the_dead_letter_queue_with_their_reason(fleet: Fleet) -> None:
    backend = SteppingBackend()
    fleet.send("this is not json")
    fleet.send(
        json.dumps({"job_id": "no-prompt", "width": 32, "height": 32, "steps": 2, "seed": 1})
    )
    fleet.send(job("too-wide", width=4096))
    fleet.send(job("no-steps", steps=0))
    fleet.send(job("string-seed", seed="7"))
    fleet.send(job("wrong-model", model="sdxl-turbo"))
    fleet.send(job("fine-after-bad"))
    node = start_node(fleet, backend)
    try:
        wait_for(
            lambda: (
                fleet.result_keys() == {"results/fine-after-bad.png", "results/fine-after-bad.json"}
            )
        )
        dead = wait_for(lambda: _enough(fleet.drain_queue(fleet.dlq_url, attributes=True), 6))
    finally:
        stop_node(node)

    reasons = {
        m["MessageAttributes"].get("spotfleet-job-id", {}).get("StringValue", m["Body"]): m[
            "MessageAttributes"
        ]["spotfleet-reason"]["StringValue"]
        for m in dead
    }
    assert "not JSON" in reasons["this is not json"]
    assert "prompt" in reasons["no-prompt"]
    assert "width" in reasons["too-wide"]
    assert "steps" in reasons["no-steps"]
    assert "seed" in reasons["string-seed"]
    assert "sdxl-turbo" in reasons["wrong-model"]
    assert backend.started == ["fine-after-bad"]  # no invalid job reached the model
    events = fleet.events()
    failed = {e["job_id"] for e in events if e["type"] == "failed"}
    dead_lettered = {e["job_id"] for e in events if e["type"] == "dead_lettered"}
    assert {"no-prompt", "too-wide", "no-steps", "string-seed", "wrong-model"} <= failed
    assert any(j.startswith("sqs:") for j in failed)  # the message with no job id at all
    assert failed == dead_lettered
    assert all(e["error"] for e in events if e["type"] == "failed")


def test_whatever_the_parser_raises_the_message_is_dead_lettered_and_the_worker_goes_on(
    fleet: Fleet, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gpu_node.worker

    def parser_that_breaks(body: str) -> Job:
        if "unforeseen" in body:
            raise RecursionError("maximum recursion depth exceeded")
        return parse_job(body)

    monkeypatch.setattr(gpu_node.worker, "parse_job", parser_that_breaks)
    backend = SteppingBackend()
    fleet.send("unforeseen")
    fleet.send(job("fine-after-it"))
    node = start_node(fleet, backend)
    try:
        wait_for(lambda: "results/fine-after-it.json" in fleet.result_keys())
        [dead] = wait_for(lambda: fleet.drain_queue(fleet.dlq_url, attributes=True))
    finally:
        assert stop_node(node) == 0
    reason = dead["MessageAttributes"]["spotfleet-reason"]["StringValue"]
    assert reason == "body could not be read: RecursionError: maximum recursion depth exceeded"


def _enough(messages: list, n: int) -> list | None:
    return messages if len(messages) >= n else None


def test_a_model_failure_is_retried_by_the_redrive_then_dead_lettered(moto_endpoint: str) -> None:
    fleet = make_fleet(moto_endpoint, max_receive_count=2)
    backend = SteppingBackend()
    fleet.send(job("breaks-model", prompt="please fail"))
    fleet.send(job("works"))
    node = start_node(fleet, backend)
    try:
        dead = wait_for(lambda: fleet.drain_queue(fleet.dlq_url))
        wait_for(lambda: "results/works.json" in fleet.result_keys())
    finally:
        stop_node(node)
    assert json.loads(dead[0]["Body"])["job_id"] == "breaks-model"
    assert backend.started.count("breaks-model") == 2  # one try per receive the policy allows
    assert "results/breaks-model.json" not in fleet.result_keys()
    events = [e for e in fleet.events() if e["job_id"] == "breaks-model"]
    assert [e["type"] for e in events if e["type"] != "started"] == [
        "failed",
        "failed",
        "dead_lettered",
    ]
    assert [e["attempts"] for e in events if e["type"] == "failed"] == [1, 2]


def test_a_redelivered_job_whose_result_is_stored_is_deleted_not_rerun(fleet: Fleet) -> None:
    from gpu_node.results import ResultRecord, Timings

    store = ResultStore(s3=fleet.clients.s3, bucket=fleet.bucket)
    now = "2026-01-01T00:00:00Z"
    record = ResultRecord(
        job_id="done-before",
        node="i-dead",
        instance_type="g5.xlarge",
        pool="p",
        fleet=None,
        model="fake-model",
        seed=7,
        width=32,
        height=32,
        steps=2,
        guidance=None,
        prompt="a cat",
        negative_prompt=None,
        attempts=1,
        timings=Timings(started_at=now, finished_at=now, generate_seconds=1, total_seconds=1),  # type: ignore[arg-type]
    )
    store.store(record, b"png")
    fleet.send(job("done-before"))
    # A node that stored the result and died before deleting: the message comes back.
    first = fleet.clients.sqs.receive_message(QueueUrl=fleet.queue_url, VisibilityTimeout=0)
    assert first["Messages"]
    backend = SteppingBackend()
    node = start_node(fleet, backend)
    try:
        wait_for(lambda: _in_flight(fleet, fleet.queue_url) == 0)
    finally:
        stop_node(node)
    assert backend.started == []
    assert fleet.result_record("done-before")["node"] == "i-dead"


def test_the_message_stays_hidden_while_a_long_job_runs(moto_endpoint: str) -> None:
    fleet = make_fleet(moto_endpoint, visibility=2)
    backend = SteppingBackend(step_seconds=0.5)
    fleet.send(job("long", steps=6))  # 3 s: half as long again as the visibility timeout
    node = start_node(fleet, backend, SPOTFLEET_VISIBILITY_SECONDS="2")
    try:
        wait_for(lambda: backend.started)
        stolen = []
        while "results/long.json" not in fleet.result_keys():
            reply = fleet.clients.sqs.receive_message(QueueUrl=fleet.queue_url, WaitTimeSeconds=0)
            stolen.extend(reply.get("Messages", []))
            time.sleep(0.3)
    finally:
        stop_node(node)
    assert stolen == []
    assert backend.started == ["long"]
    assert _in_flight(fleet, fleet.queue_url) == 0
