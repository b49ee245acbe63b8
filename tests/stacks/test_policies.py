"""Policy documents as pure functions: least privilege, no wildcard actions."""

from __future__ import annotations

import pytest

from stacks.daemon_actions import DAEMON_ACTIONS
from stacks.policies import (
    DaemonGrants,
    HistoryGrants,
    NodeGrants,
    allowed_actions,
    daemon_policy,
    node_policy,
    node_trust_policy,
    queue_policy_allowing_rules,
    queue_policy_allowing_topic,
    s3_uri_arns,
    tls_only_bucket_policy,
)

GROUP = (
    "arn:aws:autoscaling:us-east-1:1:autoScalingGroup:*:"
    "autoScalingGroupName/sf-gen-g5.xlarge-subnet-0aaa1111"
)
GROUP_ON_DEMAND = (
    "arn:aws:autoscaling:us-east-1:1:autoScalingGroup:*:autoScalingGroupName/sf-gen-on-demand"
)
GRANTS = NodeGrants(
    job_queue_arns=["arn:aws:sqs:us-east-1:1:sf-gen-jobs", "arn:aws:sqs:us-east-1:1:sf-gen-jobs-p"],
    dead_letter_queue_arns=["arn:aws:sqs:us-east-1:1:sf-gen-jobs-dlq"],
    model_bucket_arn="arn:aws:s3:::sf-gen-models",
    model_s3_uri="s3://sf-gen-models/models/sdxl/",
    results_bucket_arn="arn:aws:s3:::sf-gen-results",
    results_prefix="results/",
    events_topic_arn="arn:aws:sns:us-east-1:1:sf-gen-job-events",
    group_arns=[GROUP, GROUP_ON_DEMAND],
)


def statement(document, sid):
    (found,) = [s for s in document["Statement"] if s.get("Sid") == sid]
    return found


def test_node_policy_names_every_action_and_resource():
    document = node_policy(GRANTS)
    actions = allowed_actions(document)
    assert actions
    assert not [a for a in actions if "*" in a]
    for stmt in document["Statement"]:
        assert stmt["Effect"] == "Allow"
        assert "*" not in stmt["Resource"]


def test_node_takes_only_its_own_queues_jobs():
    take = statement(node_policy(GRANTS), "TakeJobs")
    assert set(take["Action"]) >= {
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:ChangeMessageVisibility",
    }
    assert "sqs:SendMessage" not in take["Action"]
    assert take["Resource"] == list(GRANTS.job_queue_arns)


def test_node_reads_the_model_cache_writes_results_under_its_prefix_and_publishes_events():
    document = node_policy(GRANTS)
    assert statement(document, "ReadModelCache")["Action"] == ["s3:GetObject"]
    assert statement(document, "ReadModelCache")["Resource"] == ["arn:aws:s3:::sf-gen-models/*"]
    write = statement(document, "WriteResults")
    assert "s3:GetObject" not in write["Action"]
    assert "s3:DeleteObject" not in write["Action"]
    assert write["Resource"] == ["arn:aws:s3:::sf-gen-results/results/*"]
    assert statement(document, "PublishJobEvents")["Resource"] == [GRANTS.events_topic_arn]


def test_node_completes_lifecycle_actions_on_its_fleets_groups_only():
    drain = statement(node_policy(GRANTS), "DrainOnTermination")
    assert drain["Action"] == [
        "autoscaling:CompleteLifecycleAction",
        "autoscaling:RecordLifecycleActionHeartbeat",
    ]
    assert drain["Resource"] == [GROUP, GROUP_ON_DEMAND]


def test_a_model_kept_elsewhere_is_readable_only_under_its_prefix():
    elsewhere = NodeGrants(**_with(model_s3_uri="s3://w/sdxl/"))
    document = node_policy(elsewhere)
    assert statement(document, "ReadModelCache")["Resource"] == [
        "arn:aws:s3:::sf-gen-models/*",
        "arn:aws:s3:::w/sdxl/*",
    ]
    assert "arn:aws:s3:::w" in statement(document, "ListModelCache")["Resource"]


def _with(**changes):
    fields = {name: getattr(GRANTS, name) for name in GRANTS.__dataclass_fields__}
    return {**fields, **changes}


def test_only_ec2_may_assume_the_node_role():
    (stmt,) = node_trust_policy()["Statement"]
    assert stmt["Principal"] == {"Service": "ec2.amazonaws.com"}
    assert stmt["Action"] == "sts:AssumeRole"


def test_the_daemon_policy_is_exactly_the_declared_actions_each_on_its_scope():
    document = daemon_policy(
        [
            DaemonGrants(
                group_arns=[GROUP, GROUP_ON_DEMAND],
                event_queue_arns=["q-int-gen", "q-events-gen"],
                job_queue_arns=["q-jobs-gen", "q-prio-gen"],
            ),
            DaemonGrants(
                group_arns=["g-batch"],
                event_queue_arns=["q-int-batch", "q-events-batch"],
                job_queue_arns=["q-jobs-batch"],
            ),
        ],
        HistoryGrants("arn:aws:s3:::sf-history-1", "history/"),
        lease_table_arn="t-lease",
    )
    assert sorted(allowed_actions(document)) == sorted(a.action for a in DAEMON_ACTIONS)
    assert not [a for a in allowed_actions(document) if "*" in a]
    resize = statement(document, "ResizeOwnGroups")
    assert resize["Action"] == [
        "autoscaling:SetDesiredCapacity",
        "autoscaling:TerminateInstanceInAutoScalingGroup",
    ]
    assert resize["Resource"] == [GROUP, GROUP_ON_DEMAND, "g-batch"]
    consume = statement(document, "ConsumeFleetEvents")
    assert consume["Action"] == ["sqs:ReceiveMessage", "sqs:DeleteMessage"]
    assert consume["Resource"] == ["q-int-gen", "q-events-gen", "q-int-batch", "q-events-batch"]
    backlog = statement(document, "ReadJobBacklog")
    assert backlog["Action"] == ["sqs:GetQueueAttributes"]
    assert backlog["Resource"] == ["q-jobs-gen", "q-prio-gen", "q-jobs-batch"]
    lease = statement(document, "HoldDaemonLease")
    assert lease["Action"] == ["dynamodb:GetItem", "dynamodb:PutItem"]
    assert lease["Resource"] == ["t-lease"]
    observe = statement(document, "ObserveMarketAndFleet")
    assert observe["Resource"] == ["*"]
    # Only calls IAM cannot scope to a resource get "*", and none of them changes anything.
    assert all(a.split(":")[1].startswith(("Describe", "Get")) for a in observe["Action"])


def test_the_daemon_may_write_only_its_prefix_of_the_history_bucket():
    document = daemon_policy(
        [], HistoryGrants("arn:aws:s3:::sf-history-1", "history/"), lease_table_arn="t-lease"
    )
    write = statement(document, "WriteHistoryExport")
    assert write["Action"] == ["s3:PutObject", "s3:GetObject", "s3:DeleteObject"]
    assert write["Resource"] == ["arn:aws:s3:::sf-history-1/history/*"]
    listing = statement(document, "ListHistoryExport")
    assert listing["Action"] == ["s3:ListBucket"]
    assert listing["Resource"] == ["arn:aws:s3:::sf-history-1"]
    assert listing["Condition"] == {"StringLike": {"s3:prefix": ["history/", "history/*"]}}
    s3_statements = [
        s for s in document["Statement"] if any(a.startswith("s3:") for a in s["Action"])
    ]
    assert s3_statements == [write, listing]


@pytest.mark.parametrize("prefix", ["", "history", "/history/"])
def test_a_history_prefix_must_be_a_folder(prefix):
    with pytest.raises(ValueError, match="expected a folder"):
        HistoryGrants("arn:aws:s3:::b", prefix)


def test_queue_policies_let_only_their_source_send():
    topic = queue_policy_allowing_topic("q", "arn:topic")["Statement"]
    assert topic == [
        {
            "Sid": "JobEventsTopicOnly",
            "Effect": "Allow",
            "Principal": {"Service": "sns.amazonaws.com"},
            "Action": "sqs:SendMessage",
            "Resource": "q",
            "Condition": {"ArnEquals": {"aws:SourceArn": ["arn:topic"]}},
        }
    ]
    (rules,) = queue_policy_allowing_rules("q", ["r1", "r2"])["Statement"]
    assert rules["Principal"] == {"Service": "events.amazonaws.com"}
    assert rules["Condition"] == {"ArnEquals": {"aws:SourceArn": ["r1", "r2"]}}


def test_buckets_refuse_plain_http():
    (deny,) = tls_only_bucket_policy("arn:aws:s3:::b")["Statement"]
    assert deny["Effect"] == "Deny"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert deny["Resource"] == ["arn:aws:s3:::b", "arn:aws:s3:::b/*"]
    assert allowed_actions(tls_only_bucket_policy("arn:aws:s3:::b")) == []


def test_s3_uri_arns():
    assert s3_uri_arns("s3://b/models/x/") == ("arn:aws:s3:::b", "arn:aws:s3:::b/models/x/*")
    assert s3_uri_arns("s3://b", "aws-cn") == ("arn:aws-cn:s3:::b", "arn:aws-cn:s3:::b/*")
    with pytest.raises(ValueError, match="not an S3 URI"):
        s3_uri_arns("https://b/x")
