"""GpuFleet as a whole: components, independence of fleets, what a placement touches."""

from __future__ import annotations

import pytest

from gpu_node.userdata import NODE_SETTING_TAGS
from stacks.errors import OutputsError
from stacks.outputs import FLEET_OUTPUT_KEYS, parse_fleet_outputs
from stacks.spec import fleet_groups, parse_fleets
from tests.stacks.conftest import BATCH, GEN, GEN_PLACEMENT, deploy

COMPONENTS = {
    "spotfleet:stacks:GpuFleet",
    "spotfleet:stacks:JobQueues",
    "spotfleet:stacks:DeadLetteredQueue",
    "spotfleet:stacks:JobEvents",
    "spotfleet:stacks:InterruptionEvents",
    "spotfleet:stacks:FleetBucket",
    "spotfleet:stacks:NodeIdentity",
    "spotfleet:stacks:NodeLaunchTemplate",
    "spotfleet:stacks:NodeGroup",
}
PHYSICAL_NAME_KEYS = ("name", "bucket")


def physical_names(stack, fleet):
    return {
        r.inputs[key]
        for r in stack.resources
        if not r.typ.startswith("spotfleet:") and r.name.split("-")[0] == fleet
        for key in PHYSICAL_NAME_KEYS
        if isinstance(r.inputs.get(key), str)
    }


def test_every_resource_sits_in_a_component_and_each_fleet_in_the_stack(placed_stack):
    for resource in placed_stack.resources:
        # Each fleet, and the stack's one history bucket, sit in the stack itself.
        if (resource.typ, resource.name) == ("spotfleet:stacks:FleetBucket", "history") or (
            resource.typ == "spotfleet:stacks:GpuFleet"
        ):
            assert resource.parent == "pulumi:pulumi:Stack"
        else:
            assert resource.parent in COMPONENTS, (resource.typ, resource.name, resource.parent)
    assert {r.typ for r in placed_stack.resources if r.typ.startswith("spotfleet:")} == COMPONENTS


def test_two_fleets_give_two_independent_sets(placed_stack):
    gen, batch = physical_names(placed_stack, "gen"), physical_names(placed_stack, "batch")
    assert len(gen) >= 15
    assert gen.isdisjoint(batch)
    assert all("-gen" in name for name in gen)
    assert all("-batch" in name for name in batch)
    gen_resources = [r for r in placed_stack.resources if r.name.split("-")[0] == "gen"]
    batch_resources = [r for r in placed_stack.resources if r.name.split("-")[0] == "batch"]
    # The same set but for the groups: one per pool (gen 9, batch 2) and one on-demand, each a
    # component and its group.
    groups = {"spotfleet:stacks:NodeGroup", "aws:autoscaling/group:Group"}
    assert len([r for r in gen_resources if r.typ in groups]) == 2 * 10
    assert len([r for r in batch_resources if r.typ in groups]) == 2 * 3
    assert len(gen_resources) - 20 == len(batch_resources) - 6
    # Every output that names a resource differs (version numbers and decision ids may not).
    for key in set(FLEET_OUTPUT_KEYS) - {"launchTemplateVersion", "decisionId", "poolGroups"}:
        assert placed_stack.outputs["gen"][key] != placed_stack.outputs["batch"][key], key


def test_one_fleet_alone_builds_the_same_set_as_beside_another(placed_stack):
    alone = deploy([BATCH])
    beside = {
        (r.typ, r.name): r.inputs for r in placed_stack.resources if r.name.startswith("batch")
    }
    fleet_alone = {(r.typ, r.name): r.inputs for r in alone.resources if r.name != "history"}
    assert fleet_alone == beside


def test_a_placement_changes_only_the_desired_capacity_of_the_groups_whose_count_changes():
    unplaced = deploy([GEN])
    placed = deploy([GEN], {"gen": GEN_PLACEMENT})
    before = {(r.typ, r.name): r.inputs for r in unplaced.resources}
    after = {(r.typ, r.name): r.inputs for r in placed.resources}
    assert before.keys() == after.keys()
    changed = {key for key in before if before[key] != after[key]}
    assert changed == {
        ("aws:autoscaling/group:Group", "gen-g5.4xlarge-subnet-0ccc3333"),
        ("aws:autoscaling/group:Group", "gen-g5.xlarge-subnet-0aaa1111"),
        ("aws:autoscaling/group:Group", "gen-on-demand"),
    }
    for key in changed:
        assert {k: v for k, v in before[key].items() if k != "desiredCapacity"} == {
            k: v for k, v in after[key].items() if k != "desiredCapacity"
        }


def test_each_fleet_exports_every_output(placed_stack):
    for name in ("gen", "batch"):
        outputs = placed_stack.outputs[name]
        assert tuple(outputs) == FLEET_OUTPUT_KEYS
        assert all(isinstance(v, str) for k, v in outputs.items() if k != "poolGroups")
    gen = placed_stack.outputs["gen"]
    assert gen["onDemandGroupName"] == "spotfleet-dev-gen-on-demand"
    assert len(gen["poolGroups"]) == 9
    assert gen["poolGroups"][0] == {
        "instanceType": "g5.xlarge",
        "subnetId": "subnet-0aaa1111",
        "groupName": "spotfleet-dev-gen-g5.xlarge-subnet-0aaa1111",
    }
    # The groups the stack exports are the ones the daemon derives from the declaration.
    (spec,) = parse_fleets([GEN])
    derived = fleet_groups(spec, "spotfleet-dev")
    assert [(g["instanceType"], g["subnetId"], g["groupName"]) for g in gen["poolGroups"]] == [
        (p.instance_type, p.subnet_id, p.group_name) for p in derived.pools
    ]
    assert gen["onDemandGroupName"] == derived.on_demand_group
    assert gen["deadLetterQueueUrl"].endswith("/spotfleet-dev-gen-jobs-dlq")
    assert gen["interruptionQueueUrl"].endswith("/spotfleet-dev-gen-interruptions")
    assert gen["modelCacheBucket"] == "spotfleet-dev-gen-models-123456789012"
    assert gen["resultsBucket"] == "spotfleet-dev-gen-results-123456789012"
    assert gen["launchTemplateVersion"] == "7"


def test_a_node_setting_the_program_does_not_fill_fails_the_preview(monkeypatch):
    monkeypatch.setattr(
        "stacks.fleet.NODE_SETTING_TAGS", (*NODE_SETTING_TAGS, "SPOTFLEET_NEW_SETTING")
    )
    with pytest.raises(RuntimeError, match="SPOTFLEET_NEW_SETTING"):
        deploy([GEN])


def test_the_daemon_reads_the_fleets_output_into_typed_outputs(placed_stack):
    read = parse_fleet_outputs(placed_stack.outputs)
    assert sorted(read) == ["batch", "gen"]
    gen = read["gen"]
    (spec,) = parse_fleets([GEN])
    assert gen.groups == fleet_groups(spec, "spotfleet-dev")
    assert gen.job_queue_url == placed_stack.outputs["gen"]["jobQueueUrl"]
    assert gen.decision_id == "d-20261122-0001"
    assert read["batch"].decision_id == ""


def test_an_output_of_an_older_stack_is_refused_naming_the_keys():
    old = {"gen": {"autoScalingGroupName": "spotfleet-dev-gen"}}
    with pytest.raises(OutputsError) as caught:
        parse_fleet_outputs(old)
    message = str(caught.value)
    assert "fleets.gen: autoScalingGroupName: unknown key" in message
    assert "fleets.gen: poolGroups: missing; it is required" in message
