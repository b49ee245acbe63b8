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
    PRICE_STRATEGY,
    PRIORITIZED_STRATEGY,
    InstanceOverride,
    Placement,
    PoolChoice,
    parse_fleets,
    parse_placement,
    parse_placements,
    placement_to_config,
    placements_to_config_value,
    resolve,
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
    assert parsed.pools[0] == PoolChoice(instance_type="g5.4xlarge", subnet_id="subnet-0ccc3333")
    assert parsed.on_demand_base == 3
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


def test_a_placement_weight_defaults_to_one():
    pools = [{"instanceType": "g5.xlarge", "subnetId": "subnet-0aaa1111"}]
    assert parse_placement(gen_fleet(), placement(pools=pools)).pools[0].weight == 1


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ([], "expected an object mapping a fleet name to its placement"),
        ({"other": GEN_PLACEMENT}, "placement for fleet 'other', which is not declared; declared"),
        ({"gen": "first"}, "fleet 'gen': expected an object with pools"),
        ({"gen": placement(pools=[])}, "fleet 'gen': pools: must list at least 1, got []"),
        ({"gen": placement(pools=None)}, "fleet 'gen': pools: expected a list, got None"),
        (
            {"gen": {k: v for k, v in GEN_PLACEMENT.items() if k != "decisionId"}},
            "fleet 'gen': decisionId: missing; it is required",
        ),
        ({"gen": placement(decisionId="has space")}, "decisionId: 'has space' is not allowed"),
        ({"gen": placement(onDemandBase=-1)}, "onDemandBase: Input should be greater than or"),
        (
            {"gen": placement(onDemandBase=9)},
            "fleet 'gen': onDemandBase 9 is above the fleet's maxNodes (8); allowed: 0 to 8",
        ),
        ({"gen": placement(order=1)}, "fleet 'gen': order: unknown key; allowed keys: pools"),
        (
            {
                "gen": placement(
                    pools=[
                        {"instanceType": "g5.xlarge", "subnetId": "subnet-0aaa1111", "wieght": 2}
                    ]
                )
            },
            "pools[0].wieght: unknown key (did you mean weight?); allowed keys: instanceType",
        ),
        (
            {
                "gen": placement(
                    pools=[{"instanceType": "g5.12xlarge", "subnetId": "subnet-0aaa1111"}]
                )
            },
            "fleet 'gen': pools[0].instanceType 'g5.12xlarge' is not one the fleet declared; "
            "allowed: g5.xlarge, g5.2xlarge, g5.4xlarge",
        ),
        (
            {
                "gen": placement(
                    pools=[{"instanceType": "g5.xlarge", "subnetId": "subnet-0fff9999"}]
                )
            },
            "fleet 'gen': pools[0].subnetId 'subnet-0fff9999' is not one the fleet declared; "
            "allowed: subnet-0aaa1111, subnet-0bbb2222, subnet-0ccc3333",
        ),
        (
            {
                "gen": placement(
                    pools=[
                        {"instanceType": "g5.xlarge", "subnetId": "subnet-0aaa1111", "weight": 0}
                    ]
                )
            },
            "pools[0].weight: Input should be greater than or equal to 1",
        ),
        (
            {
                "gen": placement(
                    pools=[
                        {"instanceType": "g5.xlarge", "subnetId": "subnet-0aaa1111"},
                        {"instanceType": "g5.xlarge", "subnetId": "subnet-0aaa1111"},
                    ]
                )
            },
            "pools[1] repeats g5.xlarge in subnet-0aaa1111; list each pool once",
        ),
        (
            {
                "gen": placement(
                    pools=[
                        {"instanceType": "g5.xlarge", "subnetId": "subnet-0aaa1111"},
                        {"instanceType": "g5.xlarge", "subnetId": "subnet-0bbb2222", "weight": 2},
                    ]
                )
            },
            "pools[1] gives g5.xlarge weight 2 but an earlier pool gave it 1",
        ),
    ],
)
def test_a_malformed_placement_is_refused_naming_fleet_key_and_what_is_allowed(raw, expected):
    with pytest.raises(PlacementError) as caught:
        parse_placements(raw, [gen_fleet()])
    assert caught.value.key == "spotfleet:placements"
    assert expected in str(caught.value)


def test_without_a_placement_a_fleet_uses_every_candidate_at_the_market_price():
    resolved = resolve(gen_fleet())
    assert resolved.overrides == (
        InstanceOverride("g5.xlarge", 1),
        InstanceOverride("g5.2xlarge", 1),
        InstanceOverride("g5.4xlarge", 1),
    )
    assert resolved.subnet_ids == ("subnet-0aaa1111", "subnet-0bbb2222", "subnet-0ccc3333")
    assert resolved.on_demand_base == 1
    assert resolved.spot_allocation_strategy == PRICE_STRATEGY
    assert resolved.decision_id is None


def test_a_placement_orders_types_and_subnets_by_first_appearance():
    spec = gen_fleet()
    resolved = resolve(spec, parse_placement(spec, GEN_PLACEMENT))
    assert [o.instance_type for o in resolved.overrides] == ["g5.4xlarge", "g5.xlarge"]
    assert resolved.subnet_ids == ("subnet-0ccc3333", "subnet-0aaa1111")
    assert resolved.on_demand_base == 3
    assert resolved.spot_allocation_strategy == PRIORITIZED_STRATEGY
    assert resolved.decision_id == "d-20261122-0001"


def test_a_placement_carries_its_weights_into_the_overrides():
    spec = gen_fleet()
    pools = [
        {"instanceType": "g5.2xlarge", "subnetId": "subnet-0bbb2222", "weight": 2},
        {"instanceType": "g5.xlarge", "subnetId": "subnet-0bbb2222", "weight": 1},
    ]
    resolved = resolve(spec, parse_placement(spec, placement(pools=pools)))
    assert resolved.overrides == (
        InstanceOverride("g5.2xlarge", 2),
        InstanceOverride("g5.xlarge", 1),
    )


def test_resolve_refuses_a_placement_built_for_another_fleet():
    batch = parse_fleets([BATCH])[0]
    foreign = Placement.model_validate(GEN_PLACEMENT)
    with pytest.raises(PlacementError, match=r"fleet 'batch': pools\[0\]\.instanceType"):
        resolve(batch, foreign)


def test_a_budget_may_be_written_as_an_integer():
    assert parse_fleets([fleet(budgetUsdPerHour=4)])[0].budget_usd_per_hour == 4.0


@st.composite
def placements_for_gen(draw):
    spec = gen_fleet()
    pairs = draw(
        st.lists(
            st.tuples(st.sampled_from(spec.instance_types), st.sampled_from(spec.subnet_ids)),
            min_size=1,
            max_size=9,
            unique=True,
        )
    )
    weights = {t: draw(st.integers(1, 999)) for t in spec.instance_types}
    return {
        "pools": [{"instanceType": t, "subnetId": s, "weight": weights[t]} for t, s in pairs],
        "onDemandBase": draw(st.integers(0, spec.max_nodes)),
        "decisionId": draw(st.from_regex(r"\A[a-z0-9-]{1,20}\Z")),
        "reason": draw(st.text(max_size=40)),
    }


@settings(max_examples=60, deadline=None)
@given(placements_for_gen())
def test_any_fitting_placement_round_trips_and_resolves_in_first_appearance_order(raw):
    spec = gen_fleet()
    parsed = parse_placement(spec, raw)
    assert parse_placement(spec, placement_to_config(parsed)) == parsed
    resolved = resolve(spec, parsed)
    types = list(dict.fromkeys(pool["instanceType"] for pool in raw["pools"]))
    subnets = list(dict.fromkeys(pool["subnetId"] for pool in raw["pools"]))
    assert [o.instance_type for o in resolved.overrides] == types
    assert list(resolved.subnet_ids) == subnets
    assert resolved.on_demand_base == raw["onDemandBase"]
    assert resolved.spot_allocation_strategy == PRIORITIZED_STRATEGY
