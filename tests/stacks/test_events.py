"""The job-events topic and its subscription; the interruption rules and their queue."""

from __future__ import annotations

import json

from stacks.layout import INTERRUPTION_EVENT_PATTERNS

TOPIC = "aws:sns/topic:Topic"
SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription"
QUEUE_POLICY = "aws:sqs/queuePolicy:QueuePolicy"
RULE = "aws:cloudwatch/eventRule:EventRule"
TARGET = "aws:cloudwatch/eventTarget:EventTarget"
SQS = "https://sqs.us-east-1.amazonaws.com/123456789012"
ARN = "arn:aws:{}:us-east-1:123456789012:{}"


def test_each_fleet_has_a_job_events_topic(placed_stack):
    names = sorted(r.inputs["name"] for r in placed_stack.of_type(TOPIC))
    assert names == ["spotfleet-dev-batch-job-events", "spotfleet-dev-gen-job-events"]


def test_job_events_are_encrypted_at_rest(placed_stack):
    for topic in placed_stack.of_type(TOPIC):
        assert topic.inputs["kmsMasterKeyId"] == "alias/aws/sns"


def test_the_daemon_queue_subscribes_to_the_topic_raw(placed_stack):
    sub = placed_stack.one(SUBSCRIPTION, "gen-job-events-history")
    assert sub.inputs["protocol"] == "sqs"
    assert sub.inputs["topic"] == ARN.format("sns", "spotfleet-dev-gen-job-events")
    assert sub.inputs["endpoint"] == ARN.format("sqs", "spotfleet-dev-gen-job-events")
    assert sub.inputs["rawMessageDelivery"] is True


def test_only_the_topic_may_send_to_the_job_events_queue(placed_stack):
    policy = placed_stack.one(QUEUE_POLICY, "gen-job-events-history")
    assert policy.inputs["queueUrl"] == f"{SQS}/spotfleet-dev-gen-job-events"
    (stmt,) = json.loads(policy.inputs["policy"])["Statement"]
    assert stmt["Principal"] == {"Service": "sns.amazonaws.com"}
    assert stmt["Action"] == "sqs:SendMessage"
    assert stmt["Resource"] == ARN.format("sqs", "spotfleet-dev-gen-job-events")
    assert stmt["Condition"]["ArnEquals"]["aws:SourceArn"] == [
        ARN.format("sns", "spotfleet-dev-gen-job-events")
    ]


def test_four_rules_per_fleet_match_the_shared_patterns(placed_stack):
    rules = {r.inputs["name"]: r for r in placed_stack.of_type(RULE)}
    assert len(rules) == 8
    for kind, pattern in INTERRUPTION_EVENT_PATTERNS.items():
        rule = rules[f"spotfleet-dev-gen-{kind}"]
        assert json.loads(rule.inputs["eventPattern"]) == dict(pattern)
        assert rule.parent == "spotfleet:stacks:InterruptionEvents"


def test_every_rule_targets_its_fleets_interruption_queue(placed_stack):
    targets = placed_stack.of_type(TARGET)
    assert len(targets) == 8
    for target in targets:
        fleet = target.name.split("-")[0]
        assert target.inputs["arn"] == ARN.format("sqs", f"spotfleet-dev-{fleet}-interruptions")
        assert target.inputs["rule"].startswith(f"spotfleet-dev-{fleet}-")


def test_only_eventbridge_from_those_rules_may_send_to_the_interruption_queue(placed_stack):
    policy = placed_stack.one(QUEUE_POLICY, "gen-interruptions")
    assert policy.inputs["queueUrl"] == f"{SQS}/spotfleet-dev-gen-interruptions"
    (stmt,) = json.loads(policy.inputs["policy"])["Statement"]
    assert stmt["Effect"] == "Allow"
    assert stmt["Principal"] == {"Service": "events.amazonaws.com"}
    assert stmt["Action"] == "sqs:SendMessage"
    assert sorted(stmt["Condition"]["ArnEquals"]["aws:SourceArn"]) == sorted(
        f"arn:aws:events:us-east-1:123456789012:rule/spotfleet-dev-gen-{kind}"
        for kind in INTERRUPTION_EVENT_PATTERNS
    )
