"""The node role, its inline policy as registered, and its instance profile."""

from __future__ import annotations

import json

from stacks.policies import allowed_actions

ROLE = "aws:iam/role:Role"
POLICY = "aws:iam/rolePolicy:RolePolicy"
PROFILE = "aws:iam/instanceProfile:InstanceProfile"


def node_policy(stack, fleet):
    return json.loads(stack.one(POLICY, f"{fleet}-node").inputs["policy"])


def statement(document, sid):
    (found,) = [s for s in document["Statement"] if s["Sid"] == sid]
    return found


def test_only_ec2_assumes_the_node_role(placed_stack):
    role = placed_stack.one(ROLE, "gen-node").inputs
    assert role["name"] == "spotfleet-dev-gen-node"
    (stmt,) = json.loads(role["assumeRolePolicy"])["Statement"]
    assert stmt["Principal"] == {"Service": "ec2.amazonaws.com"}
    assert "managedPolicyArns" not in role


def test_the_instance_profile_carries_the_node_role(placed_stack):
    profile = placed_stack.one(PROFILE, "gen-node").inputs
    assert profile["role"] == "spotfleet-dev-gen-node"
    assert profile["name"] == "spotfleet-dev-gen-node"


def test_the_inline_policy_has_no_wildcard_action(placed_stack):
    for fleet in ("gen", "batch"):
        actions = allowed_actions(node_policy(placed_stack, fleet))
        assert actions
        assert [a for a in actions if "*" in a] == []


def test_the_inline_policy_names_this_fleets_resources_only(placed_stack):
    document = node_policy(placed_stack, "gen")
    assert placed_stack.one(POLICY, "gen-node").inputs["role"] == "spotfleet-dev-gen-node"
    resources = [r for stmt in document["Statement"] for r in stmt["Resource"]]
    assert all("spotfleet-dev-gen" in r for r in resources), resources
    assert not [r for r in resources if "batch" in r]
    assert statement(document, "TakeJobs")["Resource"] == [
        "arn:aws:sqs:us-east-1:123456789012:spotfleet-dev-gen-jobs",
        "arn:aws:sqs:us-east-1:123456789012:spotfleet-dev-gen-jobs-priority",
    ]
    assert statement(document, "DeadLetterInvalidJobs")["Resource"] == [
        "arn:aws:sqs:us-east-1:123456789012:spotfleet-dev-gen-jobs-dlq",
        "arn:aws:sqs:us-east-1:123456789012:spotfleet-dev-gen-jobs-priority-dlq",
    ]
    assert statement(document, "WriteResults")["Resource"] == [
        "arn:aws:s3:::spotfleet-dev-gen-results-123456789012/results/*"
    ]
    assert statement(document, "PublishJobEvents")["Resource"] == [
        "arn:aws:sns:us-east-1:123456789012:spotfleet-dev-gen-job-events"
    ]
    # A node completes the hook of whichever of the fleet's groups it is in.
    group_arn = (
        "arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:*:autoScalingGroupName/"
    )
    drain = statement(document, "DrainOnTermination")["Resource"]
    assert drain == [group_arn + name for name in placed_stack.fleets["gen"].groups.names]
    assert len(drain) == 10  # 3 types x 3 subnets + on-demand
    assert group_arn + "spotfleet-dev-gen-on-demand" in drain
    assert group_arn + "spotfleet-dev-gen-g5.xlarge-subnet-0aaa1111" in drain
