"""Job queues and dead-letter queues, as the mocks saw them registered."""

from __future__ import annotations

import json

from stacks.layout import DEAD_LETTER_RETENTION_SECONDS

QUEUE = "aws:sqs/queue:Queue"


def queues(stack):
    return {r.inputs["name"]: r for r in stack.of_type(QUEUE)}


def arn(name):
    return f"arn:aws:sqs:us-east-1:123456789012:{name}"


def test_every_queue_has_its_own_dead_letter_queue(placed_stack):
    by_name = queues(placed_stack)
    sources = [name for name in by_name if not name.endswith("-dlq")]
    # jobs, priority, job events, interruptions; for two fleets.
    assert len(sources) == 8
    for name in sources:
        redrive = json.loads(by_name[name].inputs["redrivePolicy"])
        assert redrive["deadLetterTargetArn"] == arn(f"{name}-dlq")
        assert f"{name}-dlq" in by_name


def test_dead_letter_queues_keep_messages_longest_and_redrive_nowhere(placed_stack):
    for name, queue in queues(placed_stack).items():
        if name.endswith("-dlq"):
            assert "redrivePolicy" not in queue.inputs
            assert queue.inputs["messageRetentionSeconds"] == DEAD_LETTER_RETENTION_SECONDS


def test_every_queue_is_encrypted(placed_stack):
    for queue in placed_stack.of_type(QUEUE):
        assert queue.inputs["sqsManagedSseEnabled"] is True


def test_job_queues_take_the_fleet_job_settings(placed_stack):
    by_name = queues(placed_stack)
    for name in ("spotfleet-dev-gen-jobs", "spotfleet-dev-gen-jobs-priority"):
        assert by_name[name].inputs["visibilityTimeoutSeconds"] == 600
        assert json.loads(by_name[name].inputs["redrivePolicy"])["maxReceiveCount"] == 4
        assert by_name[name].inputs["receiveWaitTimeSeconds"] == 20
    batch = by_name["spotfleet-dev-batch-jobs"]
    assert batch.inputs["visibilityTimeoutSeconds"] == 1800
    assert json.loads(batch.inputs["redrivePolicy"])["maxReceiveCount"] == 3


def test_queues_sit_in_their_components(placed_stack):
    for queue in placed_stack.of_type(QUEUE):
        assert queue.parent == "spotfleet:stacks:DeadLetteredQueue"
    parents = {r.name: r.parent for r in placed_stack.of_type("spotfleet:stacks:DeadLetteredQueue")}
    assert parents["gen-jobs"] == "spotfleet:stacks:JobQueues"
    assert parents["gen-jobs-priority"] == "spotfleet:stacks:JobQueues"
    assert parents["gen-job-events-history"] == "spotfleet:stacks:JobEvents"
    assert parents["gen-interruptions"] == "spotfleet:stacks:InterruptionEvents"
