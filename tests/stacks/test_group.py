"""The fleet's Auto Scaling groups: one spot group per candidate pool holding the placement's
count, one on-demand group, each with the launch template, drain hook, refresh and tags."""

from __future__ import annotations

import re

import pytest

from gpu_node.userdata import NODE_SETTING_TAGS
from tests.stacks.conftest import BATCH, GEN, GEN_PLACEMENT, LATEST_VERSION, deploy, fleet

GROUP = "aws:autoscaling/group:Group"
# Tags readable through instance metadata may not contain '/' or spaces.
IMDS_TAG_KEY = re.compile(r"^[A-Za-z0-9+\-=._:@]{1,128}$")
TYPES = ("g5.xlarge", "g5.2xlarge", "g5.4xlarge")
SUBNETS = ("subnet-0aaa1111", "subnet-0bbb2222", "subnet-0ccc3333")


def groups(stack, fleet_name="gen"):
    """The fleet's groups by physical name (never none: a loop over them asserts something)."""
    found = {
        r.inputs["name"]: r
        for r in stack.of_type(GROUP)
        if r.inputs["name"].startswith(f"spotfleet-dev-{fleet_name}-")
    }
    assert len(found) >= 2, f"fleet {fleet_name} has {len(found)} groups"
    return found


def pool_group(stack, instance_type, subnet, fleet_name="gen"):
    return groups(stack, fleet_name)[f"spotfleet-dev-{fleet_name}-{instance_type}-{subnet}"].inputs


def on_demand_group(stack, fleet_name="gen"):
    return groups(stack, fleet_name)[f"spotfleet-dev-{fleet_name}-on-demand"].inputs


def distribution(inputs):
    return inputs["mixedInstancesPolicy"]["instancesDistribution"]


def types_of(inputs):
    return [
        o["instanceType"] for o in inputs["mixedInstancesPolicy"]["launchTemplate"]["overrides"]
    ]


def tags_of(inputs):
    return {t["key"]: t["value"] for t in inputs["tags"]}


@pytest.fixture(scope="module")
def unplaced():
    return deploy([fleet(minNodes=5, onDemandBase=1)])


def test_one_spot_group_per_candidate_pool_and_one_on_demand_group(placed_stack):
    names = set(groups(placed_stack))
    expected = {f"spotfleet-dev-gen-{t}-{s}" for t in TYPES for s in SUBNETS}
    assert names == expected | {"spotfleet-dev-gen-on-demand"}
    for t in TYPES:
        for s in SUBNETS:
            inputs = pool_group(placed_stack, t, s)
            assert types_of(inputs) == [t]
            assert inputs["vpcZoneIdentifiers"] == [s]
            assert distribution(inputs)["onDemandBaseCapacity"] == 0
            assert distribution(inputs)["onDemandPercentageAboveBaseCapacity"] == 0
    # batch: 2 types x 1 subnet + on-demand
    assert len(groups(placed_stack, "batch")) == 3


def test_each_pool_group_holds_the_placements_count_and_zero_elsewhere(placed_stack):
    counts = {(p["instanceType"], p["subnetId"]): p["nodes"] for p in GEN_PLACEMENT["pools"]}
    for t in TYPES:
        for s in SUBNETS:
            assert pool_group(placed_stack, t, s)["desiredCapacity"] == counts.get((t, s), 0)
    assert pool_group(placed_stack, "g5.4xlarge", "subnet-0ccc3333")["desiredCapacity"] == 2
    assert pool_group(placed_stack, "g5.xlarge", "subnet-0aaa1111")["desiredCapacity"] == 3


def test_the_on_demand_group_holds_the_placements_on_demand_count(placed_stack):
    inputs = on_demand_group(placed_stack)
    assert inputs["desiredCapacity"] == 2
    assert types_of(inputs) == list(TYPES)  # in declared order, prioritized
    assert inputs["vpcZoneIdentifiers"] == list(SUBNETS)
    assert distribution(inputs)["onDemandPercentageAboveBaseCapacity"] == 100
    assert distribution(inputs)["onDemandAllocationStrategy"] == "prioritized"


def test_without_a_placement_on_demand_base_then_min_nodes_round_robin_over_the_pools(unplaced):
    assert on_demand_group(unplaced)["desiredCapacity"] == 1
    # minNodes 5 - onDemandBase 1 = 4 spot nodes, one per pool in pool order: the first type
    # across the three subnets, then the second type in the first subnet.
    desired = {
        (t, s): pool_group(unplaced, t, s)["desiredCapacity"] for t in TYPES for s in SUBNETS
    }
    assert {k: v for k, v in desired.items() if v} == {
        ("g5.xlarge", "subnet-0aaa1111"): 1,
        ("g5.xlarge", "subnet-0bbb2222"): 1,
        ("g5.xlarge", "subnet-0ccc3333"): 1,
        ("g5.2xlarge", "subnet-0aaa1111"): 1,
    }


def test_batch_without_a_placement_holds_its_min_nodes(placed_stack):
    batch = {name: r.inputs["desiredCapacity"] for name, r in groups(placed_stack, "batch").items()}
    assert batch == {
        "spotfleet-dev-batch-g5.2xlarge-subnet-0ddd4444": 1,
        "spotfleet-dev-batch-g5.8xlarge-subnet-0ddd4444": 0,
        "spotfleet-dev-batch-on-demand": 0,
    }


def test_desired_capacity_is_the_stacks_and_every_group_is_sized_0_to_max(placed_stack):
    for registered in groups(placed_stack).values():
        assert registered.ignore_changes == []
        assert registered.inputs["minSize"] == 0
        assert registered.inputs["maxSize"] == 8
    for registered in groups(placed_stack, "batch").values():
        assert registered.inputs["maxSize"] == 3


def test_capacity_rebalancing_is_off_the_daemon_replaces_in_another_pool(placed_stack):
    for registered in groups(placed_stack).values():
        assert registered.inputs["capacityRebalance"] is False


def test_every_group_runs_the_fleets_numbered_launch_template_version(placed_stack):
    for registered in [*groups(placed_stack).values(), *groups(placed_stack, "batch").values()]:
        fleet_name = registered.inputs["name"].split("-")[2]
        spec = registered.inputs["mixedInstancesPolicy"]["launchTemplate"][
            "launchTemplateSpecification"
        ]
        assert spec["version"] == str(LATEST_VERSION)
        assert spec["launchTemplateId"] == placed_stack.outputs[fleet_name]["launchTemplateId"]
        assert "launchTemplate" not in registered.inputs


def test_every_group_has_the_termination_hook_that_lets_a_node_drain(placed_stack):
    for registered in groups(placed_stack).values():
        (hook,) = registered.inputs["initialLifecycleHooks"]
        assert hook["lifecycleTransition"] == "autoscaling:EC2_INSTANCE_TERMINATING"
        assert hook["name"] == "spotfleet-dev-gen-drain"
        assert hook["heartbeatTimeout"] == 600  # gen's visibilityTimeoutSeconds
        assert hook["defaultResult"] == "CONTINUE"
    for registered in groups(placed_stack, "batch").values():
        assert registered.inputs["initialLifecycleHooks"][0]["heartbeatTimeout"] == 1800


def test_a_declared_hook_timeout_wins():
    stack = deploy([fleet(lifecycleHookTimeoutSeconds=240)])
    for registered in groups(stack).values():
        assert registered.inputs["initialLifecycleHooks"][0]["heartbeatTimeout"] == 240


def test_the_drain_deadline_tag_follows_the_hooks_timeout():
    """A node drained by Auto Scaling has no notice time: it must take the hook's timeout (less
    the few seconds it takes to see the termination), not the node's 110 s default."""
    for declared, hook in (({"lifecycleHookTimeoutSeconds": 240}, 240), ({}, 600)):
        stack = deploy([fleet(**declared)])
        for registered in groups(stack).values():
            inputs = registered.inputs
            assert inputs["initialLifecycleHooks"][0]["heartbeatTimeout"] == hook
            deadline = int(tags_of(inputs)["SPOTFLEET_DRAIN_DEADLINE_SECONDS"])
            assert deadline == hook - 10


def test_the_model_tag_is_the_fleets_declared_model(placed_stack):
    for registered in groups(placed_stack).values():
        assert tags_of(registered.inputs)["SPOTFLEET_MODEL_NAME"] == GEN["model"]
    for registered in groups(placed_stack, "batch").values():
        assert tags_of(registered.inputs)["SPOTFLEET_MODEL_NAME"] == BATCH["model"]


def test_instance_refresh_launches_before_terminating_and_rolls_back(placed_stack):
    for registered in groups(placed_stack).values():
        refresh = registered.inputs["instanceRefresh"]
        assert refresh["strategy"] == "Rolling"
        preferences = refresh["preferences"]
        assert preferences["minHealthyPercentage"] == 100
        assert preferences["maxHealthyPercentage"] > 100
        assert preferences["skipMatching"] is True
        assert preferences["autoRollback"] is True


def test_pulumi_up_does_not_wait_for_spot_capacity(placed_stack):
    for registered in groups(placed_stack).values():
        assert registered.inputs["waitForCapacityTimeout"] == "0"


def test_every_group_tags_its_nodes_with_the_fleets_settings_its_pool_and_its_kind(placed_stack):
    outputs = placed_stack.outputs["gen"]
    for name, registered in groups(placed_stack).items():
        tags = {t["key"]: t for t in registered.inputs["tags"]}
        assert set(NODE_SETTING_TAGS) <= set(tags)
        assert all(t["propagateAtLaunch"] is True for t in tags.values())
        values = tags_of(registered.inputs)
        assert values["spotfleet:fleet"] == "gen"
        assert values["SPOTFLEET_FLEET"] == "gen"
        assert values["SPOTFLEET_QUEUE_URL"] == outputs["jobQueueUrl"]
        assert values["SPOTFLEET_PRIORITY_QUEUE_URL"] == outputs["priorityQueueUrl"]
        assert values["SPOTFLEET_RESULTS_BUCKET"] == outputs["resultsBucket"]
        assert values["SPOTFLEET_EVENTS_TOPIC_ARN"] == outputs["jobEventsTopicArn"]
        assert values["SPOTFLEET_MODEL_DIR"] == "/opt/spotfleet/models"
        assert values["SPOTFLEET_MODEL_S3_URI"] == outputs["modelS3Uri"]
        assert values["SPOTFLEET_LIFECYCLE_HOOK"] == "spotfleet-dev-gen-drain"
        # A node completes the hook on the group it is in.
        assert values["SPOTFLEET_ASG_NAME"] == name
        if name.endswith("-on-demand"):
            assert values["spotfleet:kind"] == "on-demand"
            assert "spotfleet:pool-instance-type" not in values
        else:
            assert values["spotfleet:kind"] == "spot"
            pool_type = values["spotfleet:pool-instance-type"]
            assert name == f"spotfleet-dev-gen-{pool_type}-{values['spotfleet:pool-subnet']}"


def test_tag_keys_are_readable_through_instance_metadata(placed_stack):
    for registered in groups(placed_stack).values():
        for tag in registered.inputs["tags"]:
            assert IMDS_TAG_KEY.match(tag["key"]), tag["key"]
            assert len(tag["value"]) <= 256
