"""Names and the plain-data layout the Pulumi program and the embedded default share."""

from __future__ import annotations

import json
from dataclasses import asdict

import pytest

from stacks.errors import NamingError
from stacks.layout import DEAD_LETTER_RETENTION_SECONDS, INTERRUPTION_EVENT_PATTERNS, fleet_layout
from stacks.naming import default_prefix, fleet_names, group_arn_pattern, validate_prefix
from stacks.spec import fleet_groups, parse_fleets
from tests.stacks.conftest import ACCOUNT, BATCH, GEN, fleet


def test_names_are_derived_from_prefix_and_fleet_only():
    names = fleet_names("gen", prefix="spotfleet-dev", account=ACCOUNT)
    assert names.job_queue == "spotfleet-dev-gen-jobs"
    assert names.job_dead_letter_queue == "spotfleet-dev-gen-jobs-dlq"
    assert names.priority_queue == "spotfleet-dev-gen-jobs-priority"
    assert names.interruption_queue == "spotfleet-dev-gen-interruptions"
    assert names.events_topic == "spotfleet-dev-gen-job-events"
    assert names.lifecycle_hook == "spotfleet-dev-gen-drain"
    assert names.model_bucket == "spotfleet-dev-gen-models-123456789012"
    assert names.results_bucket == "spotfleet-dev-gen-results-123456789012"
    assert names.rule("spot-interruption") == "spotfleet-dev-gen-spot-interruption"
    assert fleet_names("gen", prefix="spotfleet-dev", account=ACCOUNT) == names


def test_two_fleets_share_no_name():
    gen = asdict(fleet_names("gen", prefix="spotfleet-dev", account=ACCOUNT))
    batch = asdict(fleet_names("batch", prefix="spotfleet-dev", account=ACCOUNT))
    assert not set(gen.values()) & set(batch.values())


def test_the_longest_names_fit_aws_limits():
    names = fleet_names("a" * 20, prefix="b" * 20, account=ACCOUNT)
    assert len(names.results_bucket) <= 63
    assert len(names.model_bucket) <= 63
    assert all(len(names.rule(kind)) <= 64 for kind in INTERRUPTION_EVENT_PATTERNS)


def test_the_default_prefix_is_the_stack_name_made_safe():
    assert default_prefix("dev") == "spotfleet-dev"
    assert default_prefix("Team_Prod") == "spotfleet-team-prod"


def test_a_stack_name_too_long_for_a_prefix_asks_for_name_prefix():
    with pytest.raises(NamingError, match="set spotfleet:namePrefix"):
        default_prefix("a-very-long-production-stack")


@pytest.mark.parametrize("prefix", ["", "Spot", "sf_dev", "sf-", "1sf", "s" * 21, "sf\n"])
def test_a_bad_prefix_is_refused_with_what_is_allowed(prefix):
    with pytest.raises(NamingError) as caught:
        validate_prefix(prefix)
    assert str(caught.value).startswith("spotfleet:namePrefix: ")
    assert "lowercase letters, digits and hyphens" in str(caught.value)


def test_the_group_arn_pattern_names_the_group_and_leaves_only_its_id_open():
    assert group_arn_pattern(ACCOUNT, "spotfleet-dev-gen") == (
        "arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:*:"
        "autoScalingGroupName/spotfleet-dev-gen"
    )


def test_the_interruption_patterns_cover_the_four_event_kinds():
    detail_types = {
        (pattern["source"][0], pattern["detail-type"][0])
        for pattern in INTERRUPTION_EVENT_PATTERNS.values()
    }
    assert detail_types == {
        ("aws.ec2", "EC2 Spot Instance Interruption Warning"),
        ("aws.ec2", "EC2 Instance Rebalance Recommendation"),
        ("aws.ec2", "EC2 Instance State-change Notification"),
        ("aws.health", "AWS Health Event"),
    }


def test_the_layout_carries_the_fleet_job_settings_and_a_dead_letter_for_every_queue():
    spec = parse_fleets([GEN])[0]
    layout = fleet_layout(spec, prefix="spotfleet-dev", account=ACCOUNT)
    assert layout.job_queue.visibility_timeout_seconds == 600
    assert layout.job_queue.dead_letter.max_receive_count == 4
    assert layout.priority_queue.dead_letter.name == "spotfleet-dev-gen-jobs-priority-dlq"
    for queue in layout.queues:
        assert queue.dead_letter.name == f"{queue.name}-dlq"
        assert queue.dead_letter.message_retention_seconds == DEAD_LETTER_RETENTION_SECONDS
        assert queue.message_retention_seconds <= DEAD_LETTER_RETENTION_SECONDS
    redrive = json.loads(layout.job_queue.redrive_policy("arn:aws:sqs:us-east-1:1:dlq"))
    assert redrive == {"deadLetterTargetArn": "arn:aws:sqs:us-east-1:1:dlq", "maxReceiveCount": 4}


def test_the_layout_rules_carry_the_shared_patterns():
    layout = fleet_layout(parse_fleets([BATCH])[0], prefix="spotfleet-dev", account=ACCOUNT)
    assert {
        rule.kind: json.loads(rule.event_pattern_json) for rule in layout.interruption_rules
    } == {kind: dict(pattern) for kind, pattern in INTERRUPTION_EVENT_PATTERNS.items()}


def test_the_model_uri_defaults_to_the_model_cache_bucket():
    layout = fleet_layout(parse_fleets([GEN])[0], prefix="spotfleet-dev", account=ACCOUNT)
    assert layout.model_s3_uri == (
        "s3://spotfleet-dev-gen-models-123456789012/models/stabilityai/sdxl-turbo/"
    )
    declared = parse_fleets([fleet(modelS3Uri="s3://weights/sdxl/")])[0]
    assert fleet_layout(declared, prefix="p", account=ACCOUNT).model_s3_uri == "s3://weights/sdxl/"


def test_buckets_are_versioned_or_expiring_as_their_job_needs():
    layout = fleet_layout(
        parse_fleets([fleet(resultsExpiryDays=7)])[0], prefix="p", account=ACCOUNT
    )
    assert layout.model_bucket.versioned
    assert layout.model_bucket.expiry_days is None
    assert not layout.results_bucket.versioned
    assert layout.results_bucket.expiry_days == 7


def test_a_fleet_has_one_group_per_candidate_pool_and_one_on_demand_group():
    (gen,) = parse_fleets([GEN])
    groups = fleet_groups(gen, "spotfleet-dev")
    assert [(p.instance_type, p.subnet_id) for p in groups.pools] == [
        (t, s) for t in GEN["instanceTypes"] for s in GEN["subnetIds"]
    ]
    assert groups.pools[0].group_name == "spotfleet-dev-gen-g5.xlarge-subnet-0aaa1111"
    assert groups.on_demand_group == "spotfleet-dev-gen-on-demand"
    assert groups.of_pool("g5.4xlarge", "subnet-0ccc3333").group_name == (
        "spotfleet-dev-gen-g5.4xlarge-subnet-0ccc3333"
    )
    assert len(set(groups.names)) == 10
    assert fleet_groups(gen, "spotfleet-dev") == groups  # deterministic
    with pytest.raises(KeyError, match="not a candidate pool"):
        groups.of_pool("g5.12xlarge", "subnet-0aaa1111")


def test_group_names_are_aws_valid_and_never_clash_across_fleets():
    long_fleet = fleet(
        name="a" * 20,
        instanceTypes=["g5.48xlarge", "g5.xlarge"],
        subnetIds=["subnet-0a1b2c3d4e5f60001", "subnet-0a1b2c3d4e5f60002"],
    )
    (spec,) = parse_fleets([long_fleet])
    names = fleet_groups(spec, "b" * 20).names
    # AWS: 1-255 characters, no ':' (it would break the group's ARN).
    assert all(0 < len(name) <= 255 and ":" not in name for name in names)
    assert max(len(name) for name in names) < 100
    gen, batch = parse_fleets([GEN, BATCH])
    assert set(fleet_groups(gen, "sf").names).isdisjoint(fleet_groups(batch, "sf").names)


def test_the_layout_carries_the_fleets_groups():
    (gen,) = parse_fleets([GEN])
    layout = fleet_layout(gen, prefix="spotfleet-dev", account=ACCOUNT)
    assert layout.groups == fleet_groups(gen, "spotfleet-dev")
