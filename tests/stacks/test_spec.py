"""The config contract: fleets and placements, their errors, and how they resolve."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stacks.errors import FleetConfigError, PlacementError, StackConfigError
from stacks.spec import (
    Placement,
    PoolCount,
    desired_capacity,
    parse_fleets,
    parse_placement,
    parse_placements,
    placement_to_config,
    placements_to_config_value,
)
from tests.stacks.conftest import BATCH, GEN, GEN_PLACEMENT, fleet

REPO_ROOT = Path(__file__).resolve().parents[2]


def gen_fleet():
    return parse_fleets([GEN])[0]


def placement(**changes: Any) -> dict[str, Any]:
    return {**GEN_PLACEMENT, **changes}


def test_import_needs_no_pulumi_engine():
    code = (
        "import sys, stacks.spec, stacks.naming, stacks.layout, stacks.policies, stacks.outputs\n"
        "assert 'pulumi' not in sys.modules, 'stacks.spec imported pulumi'\n"
        "assert 'pulumi_aws' not in sys.modules\n"
        "print('ok')"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_a_declared_fleet_gets_defaults_for_what_it_leaves_out():
    spec = parse_fleets([fleet(visibilityTimeoutSeconds=None, maxReceiveCount=None)])[0]
    assert spec.instance_types == ("g5.xlarge", "g5.2xlarge", "g5.4xlarge")
    assert spec.visibility_timeout_seconds == 900
    assert spec.max_receive_count == 3
    assert spec.root_volume_gib == 200
    assert spec.results_prefix == "results/"
    assert spec.budget_usd_per_hour is None


def test_several_fleets_parse_in_declared_order():
    assert [spec.name for spec in parse_fleets([GEN, BATCH])] == ["gen", "batch"]


def test_fleet_fields_also_accept_python_names():
    spec = parse_fleets([{**fleet(instanceTypes=None), "instance_types": ["g5.xlarge"]}])[0]
    assert spec.instance_types == ("g5.xlarge",)


def test_drain_timeout_follows_the_visibility_timeout_unless_declared():
    assert parse_fleets([fleet(visibilityTimeoutSeconds=600)])[0].drain_timeout_seconds == 600
    assert parse_fleets([fleet(visibilityTimeoutSeconds=30)])[0].drain_timeout_seconds == 120
    assert parse_fleets([fleet(visibilityTimeoutSeconds=43200)])[0].drain_timeout_seconds == 7200
    declared = fleet(lifecycleHookTimeoutSeconds=300)
    assert parse_fleets([declared])[0].drain_timeout_seconds == 300


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, "expected a non-empty list of fleets"),
        ([], "expected a non-empty list of fleets"),
        ({"name": "gen"}, "expected a non-empty list of fleets"),
        (["gen"], "fleet #0: expected an object"),
        ([fleet(name="Gen_1")], "fleet #0 'Gen_1': name: 'Gen_1' is not allowed; expected 1-20"),
        ([fleet(name="a" * 21)], "name: 'aaaaaaaaaaaaaaaaaaaaa' is not allowed"),
        ([fleet(name="gen\n")], "name: 'gen\\n' is not allowed"),
        ([fleet(name=None)], "fleet #0: name: missing; it is required"),
        ([fleet(amiId=None)], "fleet #0 'gen': amiId: missing; it is required"),
        ([fleet(amiId="ubuntu")], "amiId: 'ubuntu' is not allowed; expected an AMI id"),
        ([fleet(instanceTypes=[])], "instanceTypes: must list at least 1, got []"),
        ([fleet(instanceTypes=["g5xlarge"])], "'g5xlarge' is not allowed; expected instance types"),
        ([fleet(instanceTypes=["g5.xlarge", "g5.xlarge"])], "'g5.xlarge' is listed twice"),
        ([fleet(subnetIds=["subnet-1"])], "'subnet-1' is not allowed; expected subnet ids"),
        ([fleet(minNodes="1")], "minNodes: Input should be a valid integer, got '1'"),
        ([fleet(minNodes=-1)], "minNodes: Input should be greater than or equal to 0"),
        ([fleet(minNodes=5, maxNodes=4)], "minNodes (5) is above maxNodes (4)"),
        ([fleet(onDemandBase=9)], "onDemandBase (9) is above maxNodes (8)"),
        ([fleet(maxNode=3)], "maxNode: unknown key (did you mean maxNodes?); allowed keys: name"),
        ([fleet(visibilityTimeoutSeconds=43201)], "visibilityTimeoutSeconds: Input should be less"),
        ([fleet(maxReceiveCount=0)], "maxReceiveCount: Input should be greater than or equal to 1"),
        ([fleet(rootVolumeGiB=10)], "rootVolumeGiB: Input should be greater than or equal to 30"),
        ([fleet(modelS3Uri="http://x")], "modelS3Uri: 'http://x' is not allowed"),
        ([fleet(modelDir="models")], "modelDir: 'models' is not allowed; expected an absolute"),
        ([fleet(resultsPrefix="/out")], "resultsPrefix: '/out' is not allowed"),
        ([fleet(resultsPrefix="out/*/")], "resultsPrefix: 'out/*/' is not allowed"),
        ([fleet(budgetUsdPerHour=0)], "budgetUsdPerHour: Input should be greater than 0"),
        ([fleet(idleScaleToZeroMinutes=15, minNodes=1)], "idleScaleToZeroMinutes needs minNodes 0"),
        ([fleet(nodePackage=" ")], "nodePackage: ' ' is not allowed"),
        ([fleet(lifecycleHookTimeoutSeconds=10)], "lifecycleHookTimeoutSeconds: Input should be"),
        ([GEN, GEN], "fleet 'gen' is declared twice; fleet names must be unique"),
    ],
)
def test_a_malformed_fleet_is_refused_naming_fleet_key_and_what_is_allowed(raw, expected):
    with pytest.raises(FleetConfigError) as caught:
        parse_fleets(raw)
    assert caught.value.key == "spotfleet:fleets"
    assert expected in str(caught.value)
    assert str(caught.value).startswith("spotfleet:fleets")


def test_every_problem_of_a_fleet_list_is_reported_at_once():
    with pytest.raises(FleetConfigError) as caught:
        parse_fleets([fleet(amiId="x", minNodes="1"), {**BATCH, "maxNodes": 0}])
    problems = caught.value.problems
    assert len(problems) == 3
    assert any(p.startswith("fleet #1 'batch': maxNodes") for p in problems)
    assert "has 3 problems" in str(caught.value)


def test_config_errors_are_value_errors():
    assert issubclass(FleetConfigError, StackConfigError)
    assert issubclass(PlacementError, ValueError)


def test_a_valid_placement_parses_and_round_trips_through_config():
    spec = gen_fleet()
    parsed = parse_placement(spec, GEN_PLACEMENT)
    assert parsed.pools[0] == PoolCount(
        instance_type="g5.4xlarge", subnet_id="subnet-0ccc3333", nodes=2
    )
    assert parsed.on_demand == 2
    assert parsed.total_nodes == 7
    as_config = placement_to_config(parsed)
    assert as_config == {**GEN_PLACEMENT}
    assert parse_placement(spec, json.loads(json.dumps(as_config))) == parsed


def test_the_placements_value_is_json_keyed_by_fleet():
    spec = gen_fleet()
    value = placements_to_config_value({"gen": parse_placement(spec, GEN_PLACEMENT)})
    assert parse_placements(json.loads(value), [spec])["gen"].decision_id == "d-20261122-0001"


def test_absent_placements_mean_none():
    assert parse_placements(None, [gen_fleet()]) == {}
    assert parse_placements({}, [gen_fleet()]) == {}


def test_a_placement_may_list_no_pool_all_on_demand_or_idle():
    parsed = parse_placement(gen_fleet(), placement(pools=[], onDemand=0))
    assert parsed.pools == () and parsed.total_nodes == 0
    assert parse_placement(gen_fleet(), {**placement(onDemand=4), "pools": []}).on_demand == 4


def pools(*counts: tuple[str, str, int]) -> list[dict[str, Any]]:
    return [{"instanceType": t, "subnetId": s, "nodes": n} for t, s, n in counts]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ([], "expected an object mapping a fleet name to its placement"),
        ({"other": GEN_PLACEMENT}, "placement for fleet 'other', which is not declared; declared"),
        ({"gen": "first"}, "fleet 'gen': expected an object with pools"),
        ({"gen": placement(pools=None)}, "fleet 'gen': pools: expected a list, got None"),
        (
            {"gen": {k: v for k, v in GEN_PLACEMENT.items() if k != "decisionId"}},
            "fleet 'gen': decisionId: missing; it is required",
        ),
        (
            {"gen": {k: v for k, v in GEN_PLACEMENT.items() if k != "onDemand"}},
            "fleet 'gen': onDemand: missing; it is required",
        ),
        ({"gen": placement(decisionId="has space")}, "decisionId: 'has space' is not allowed"),
        ({"gen": placement(onDemand=-1)}, "onDemand: Input should be greater than or"),
        (
            {"gen": placement(onDemandBase=1)},
            "fleet 'gen': onDemandBase: unknown key (did you mean onDemand?); allowed keys: pools",
        ),
        (
            {
                "gen": placement(
                    pools=[{"instanceType": "g5.xlarge", "subnetId": "subnet-0aaa1111"}]
                )
            },
            "fleet 'gen': pools[0].nodes: missing; it is required",
        ),
        (
            {
                "gen": placement(
                    pools=[
                        {"instanceType": "g5.xlarge", "subnetId": "subnet-0aaa1111", "weight": 1}
                    ]
                )
            },
            "pools[0].weight: unknown key; allowed keys: instanceType, subnetId, nodes",
        ),
        (
            {"gen": placement(pools=pools(("g5.xlarge", "subnet-0aaa1111", -1)))},
            "pools[0].nodes: Input should be greater than or equal to 0",
        ),
        (
            {"gen": placement(pools=pools(("g5.12xlarge", "subnet-0aaa1111", 1)))},
            "fleet 'gen': pools[0] (g5.12xlarge in subnet-0aaa1111): instanceType 'g5.12xlarge' "
            "is not one the fleet declared; allowed: g5.xlarge, g5.2xlarge, g5.4xlarge",
        ),
        (
            {"gen": placement(pools=pools(("g5.xlarge", "subnet-0fff9999", 1)))},
            "fleet 'gen': pools[0] (g5.xlarge in subnet-0fff9999): subnetId 'subnet-0fff9999' "
            "is not one the fleet declared; allowed: subnet-0aaa1111, subnet-0bbb2222, "
            "subnet-0ccc3333",
        ),
        (
            {
                "gen": placement(
                    pools=pools(
                        ("g5.xlarge", "subnet-0aaa1111", 1), ("g5.xlarge", "subnet-0aaa1111", 2)
                    )
                )
            },
            "pools[1] repeats g5.xlarge in subnet-0aaa1111; list each pool once",
        ),
        (
            {
                "gen": placement(
                    pools=pools(
                        ("g5.xlarge", "subnet-0aaa1111", 9), ("g5.2xlarge", "subnet-0bbb2222", 6)
                    ),
                    onDemand=2,
                )
            },
            "fleet 'gen': the placement holds 17 nodes (g5.xlarge in subnet-0aaa1111: 9, "
            "g5.2xlarge in subnet-0bbb2222: 6; on-demand 2), above twice the fleet's maxNodes (8)",
        ),
        (
            {"gen": placement(pools=[], onDemand=17)},
            "the placement holds 17 nodes (no spot; on-demand 17), above twice the fleet's "
            "maxNodes (8)",
        ),
    ],
)
def test_a_malformed_placement_is_refused_naming_fleet_key_and_what_is_allowed(raw, expected):
    with pytest.raises(PlacementError) as caught:
        parse_placements(raw, [gen_fleet()])
    assert caught.value.key == "spotfleet:placements"
    assert expected in str(caught.value)


def test_desired_capacity_is_the_placements_count_per_pool_and_zero_elsewhere():
    spec = gen_fleet()
    desired = desired_capacity(spec, parse_placement(spec, GEN_PLACEMENT))
    assert len(desired.pools) == 9
    assert [(p.instance_type, p.subnet_id) for p in desired.pools[:4]] == [
        ("g5.xlarge", "subnet-0aaa1111"),
        ("g5.xlarge", "subnet-0bbb2222"),
        ("g5.xlarge", "subnet-0ccc3333"),
        ("g5.2xlarge", "subnet-0aaa1111"),
    ]
    nonzero = {(p.instance_type, p.subnet_id): p.nodes for p in desired.pools if p.nodes}
    assert nonzero == {("g5.4xlarge", "subnet-0ccc3333"): 2, ("g5.xlarge", "subnet-0aaa1111"): 3}
    assert desired.on_demand == 2


@pytest.mark.parametrize(
    ("min_nodes", "on_demand_base", "spot", "on_demand"),
    [
        (0, 0, [0] * 9, 0),
        (0, 1, [0] * 9, 1),  # the on-demand floor holds even above minNodes
        (3, 1, [1, 1, 0, 0, 0, 0, 0, 0, 0], 1),
        (8, 0, [1, 1, 1, 1, 1, 1, 1, 1, 0], 0),
        (8, 8, [0] * 9, 8),
    ],
)
def test_without_a_placement_the_floor_is_on_demand_and_the_rest_of_min_goes_round_robin(
    min_nodes, on_demand_base, spot, on_demand
):
    spec = parse_fleets([fleet(minNodes=min_nodes, onDemandBase=on_demand_base)])[0]
    desired = desired_capacity(spec, None)
    assert [p.nodes for p in desired.pools] == spot
    assert desired.on_demand == on_demand


def test_round_robin_wraps_when_min_nodes_exceeds_the_pools():
    spec = parse_fleets([{**BATCH, "minNodes": 3, "maxNodes": 3}])[0]
    assert [p.nodes for p in desired_capacity(spec, None).pools] == [2, 1]


def test_desired_capacity_refuses_a_placement_built_for_another_fleet():
    batch = parse_fleets([BATCH])[0]
    foreign = Placement.model_validate(GEN_PLACEMENT)
    with pytest.raises(PlacementError, match=r"fleet 'batch': pools\[0\] \(g5.4xlarge"):
        desired_capacity(batch, foreign)


def test_a_budget_may_be_written_as_an_integer():
    assert parse_fleets([fleet(budgetUsdPerHour=4)])[0].budget_usd_per_hour == 4.0


@st.composite
def placements_for_gen(draw):
    spec = gen_fleet()
    pairs = draw(
        st.lists(
            st.tuples(st.sampled_from(spec.instance_types), st.sampled_from(spec.subnet_ids)),
            max_size=9,
            unique=True,
        )
    )
    budget = spec.max_nodes
    counts = []
    for _ in pairs:
        counts.append(draw(st.integers(0, budget)))
        budget -= counts[-1]
    return {
        "pools": [
            {"instanceType": t, "subnetId": s, "nodes": n}
            for (t, s), n in zip(pairs, counts, strict=True)
        ],
        "onDemand": draw(st.integers(0, budget)),
        "decisionId": draw(st.from_regex(r"\A[a-z0-9-]{1,20}\Z")),
        "reason": draw(st.text(max_size=40)),
    }


@settings(max_examples=60, deadline=None)
@given(placements_for_gen())
def test_any_fitting_placement_round_trips_and_every_group_gets_its_count(raw):
    spec = gen_fleet()
    parsed = parse_placement(spec, raw)
    assert parse_placement(spec, placement_to_config(parsed)) == parsed
    desired = desired_capacity(spec, parsed)
    asked = {(p["instanceType"], p["subnetId"]): p["nodes"] for p in raw["pools"]}
    for pool in desired.pools:
        assert pool.nodes == asked.get((pool.instance_type, pool.subnet_id), 0)
    assert sum(p.nodes for p in desired.pools) + desired.on_demand == parsed.total_nodes
    assert desired.on_demand == raw["onDemand"]
