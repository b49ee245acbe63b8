"""The Auto Scaling group: placement-driven overrides, spot policy, drain hook, refresh, tags."""

from __future__ import annotations

import re

import pytest

from gpu_node.userdata import NODE_SETTING_TAGS
from tests.stacks.conftest import GEN, GEN_PLACEMENT, LATEST_VERSION, deploy, fleet

GROUP = "aws:autoscaling/group:Group"
# Tags readable through instance metadata may not contain '/' or spaces.
IMDS_TAG_KEY = re.compile(r"^[A-Za-z0-9+\-=._:@]{1,128}$")


def group(stack, name="gen"):
    return stack.one(GROUP, name).inputs


def distribution(inputs):
    return inputs["mixedInstancesPolicy"]["instancesDistribution"]


def overrides(inputs):
    return [
        (o["instanceType"], o["weightedCapacity"])
        for o in inputs["mixedInstancesPolicy"]["launchTemplate"]["overrides"]
    ]


@pytest.fixture(scope="module")
def unplaced_gen():
    return group(deploy([GEN]))


def test_without_a_placement_every_candidate_runs_at_price_capacity(unplaced_gen):
    assert overrides(unplaced_gen) == [("g5.xlarge", "1"), ("g5.2xlarge", "1"), ("g5.4xlarge", "1")]
    assert distribution(unplaced_gen)["spotAllocationStrategy"] == "price-capacity-optimized"
    assert unplaced_gen["vpcZoneIdentifiers"] == [
        "subnet-0aaa1111",
        "subnet-0bbb2222",
        "subnet-0ccc3333",
    ]
    assert distribution(unplaced_gen)["onDemandBaseCapacity"] == 1


def test_a_placement_reorders_overrides_and_changes_subnets_and_on_demand_base(
    placed_stack, unplaced_gen
):
    placed = group(placed_stack)
    assert overrides(placed) == [("g5.4xlarge", "1"), ("g5.xlarge", "1")]
    assert distribution(placed)["spotAllocationStrategy"] == "capacity-optimized-prioritized"
    assert placed["vpcZoneIdentifiers"] == ["subnet-0ccc3333", "subnet-0aaa1111"]
    assert distribution(placed)["onDemandBaseCapacity"] == 3
    assert overrides(placed) != overrides(unplaced_gen)


def test_placement_weights_become_weighted_capacity():
    pools = [
        {"instanceType": "g5.2xlarge", "subnetId": "subnet-0bbb2222", "weight": 2},
        {"instanceType": "g5.xlarge", "subnetId": "subnet-0bbb2222"},
    ]
    stack = deploy([GEN], {"gen": {**GEN_PLACEMENT, "pools": pools}})
    assert overrides(group(stack)) == [("g5.2xlarge", "2"), ("g5.xlarge", "1")]
    assert group(stack)["vpcZoneIdentifiers"] == ["subnet-0bbb2222"]


def test_nothing_runs_on_demand_above_the_base(placed_stack):
    for name in ("gen", "batch"):
        assert distribution(group(placed_stack, name))["onDemandPercentageAboveBaseCapacity"] == 0


def test_capacity_rebalancing_is_on(placed_stack):
    assert group(placed_stack)["capacityRebalance"] is True


def test_the_group_runs_a_numbered_launch_template_version(placed_stack):
    spec = group(placed_stack)["mixedInstancesPolicy"]["launchTemplate"][
        "launchTemplateSpecification"
    ]
    assert spec["version"] == str(LATEST_VERSION)
    assert spec["version"].isdigit()
    assert spec["launchTemplateId"] == placed_stack.outputs["gen"]["launchTemplateId"]
    assert "launchTemplate" not in group(placed_stack)


def test_a_termination_hook_gives_a_node_time_to_drain_its_job(placed_stack):
    (hook,) = group(placed_stack)["initialLifecycleHooks"]
    assert hook["lifecycleTransition"] == "autoscaling:EC2_INSTANCE_TERMINATING"
    assert hook["name"] == "spotfleet-dev-gen-drain"
    assert hook["heartbeatTimeout"] == 600  # gen's visibilityTimeoutSeconds
    assert hook["defaultResult"] == "CONTINUE"
    (batch_hook,) = group(placed_stack, "batch")["initialLifecycleHooks"]
    assert batch_hook["heartbeatTimeout"] == 1800


def test_a_declared_hook_timeout_wins():
    stack = deploy([fleet(lifecycleHookTimeoutSeconds=240)])
    assert group(stack)["initialLifecycleHooks"][0]["heartbeatTimeout"] == 240


def test_instance_refresh_launches_before_terminating_and_rolls_back(placed_stack):
    refresh = group(placed_stack)["instanceRefresh"]
    assert refresh["strategy"] == "Rolling"
    preferences = refresh["preferences"]
    assert preferences["minHealthyPercentage"] == 100
    assert preferences["maxHealthyPercentage"] > 100
    assert preferences["skipMatching"] is True
    assert preferences["autoRollback"] is True


def test_desired_capacity_belongs_to_the_daemon(placed_stack):
    registered = placed_stack.one(GROUP, "gen")
    assert registered.ignore_changes == ["desiredCapacity"]
    assert registered.inputs["minSize"] == 0
    assert registered.inputs["maxSize"] == 8
    assert registered.inputs["desiredCapacity"] == 0
    batch = group(placed_stack, "batch")
    assert (batch["minSize"], batch["maxSize"], batch["desiredCapacity"]) == (1, 3, 1)


def test_pulumi_up_does_not_wait_for_spot_capacity(placed_stack):
    assert group(placed_stack)["waitForCapacityTimeout"] == "0"


def test_nodes_get_every_setting_as_a_tag_at_launch(placed_stack):
    tags = {t["key"]: t for t in group(placed_stack)["tags"]}
    assert set(NODE_SETTING_TAGS) <= set(tags)
    assert all(t["propagateAtLaunch"] is True for t in tags.values())
    values = {key: tag["value"] for key, tag in tags.items()}
    outputs = placed_stack.outputs["gen"]
    assert values["SPOTFLEET_FLEET"] == "gen"
    assert values["SPOTFLEET_QUEUE_URL"] == outputs["jobQueueUrl"]
    assert values["SPOTFLEET_PRIORITY_QUEUE_URL"] == outputs["priorityQueueUrl"]
    assert values["SPOTFLEET_RESULTS_BUCKET"] == outputs["resultsBucket"]
    assert values["SPOTFLEET_EVENTS_TOPIC_ARN"] == outputs["jobEventsTopicArn"]
    assert values["SPOTFLEET_MODEL_DIR"] == "/opt/spotfleet/models"
    assert values["SPOTFLEET_MODEL_S3_URI"] == outputs["modelS3Uri"]
    assert values["SPOTFLEET_LIFECYCLE_HOOK"] == "spotfleet-dev-gen-drain"
    assert values["SPOTFLEET_ASG_NAME"] == outputs["autoScalingGroupName"]


def test_tag_keys_are_readable_through_instance_metadata(placed_stack):
    for tag in group(placed_stack)["tags"]:
        assert IMDS_TAG_KEY.match(tag["key"]), tag["key"]
        assert len(tag["value"]) <= 256
