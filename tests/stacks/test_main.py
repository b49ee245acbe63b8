"""The program as `pulumi up` runs it: __main__.py reading stack config, under mocks."""

from __future__ import annotations

import json
import runpy
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml  # type: ignore[import-untyped]  # no types-PyYAML in the lock

from stacks.outputs import DAEMON_LEASE_TABLE, DAEMON_POLICY, FLEET_OUTPUT_KEYS, FLEETS, HISTORY
from stacks.policies import allowed_actions
from stacks.stack_config import KNOWN_KEYS
from tests.stacks.conftest import BATCH, GEN, GEN_PLACEMENT, install_mocks

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def stack_config():
    """Sets stack config as the engine passes it (JSON text for structured values)."""

    def set_config(values: dict[str, Any]) -> None:
        pulumi.runtime.set_all_config(
            {
                key: value if isinstance(value, str) else json.dumps(value)
                for key, value in values.items()
            }
        )

    yield set_config
    pulumi.runtime.set_all_config({})


def run_main(monkeypatch) -> dict[str, Any]:
    """Run __main__.py under mocks; return its exports, resolved."""
    exports: dict[str, Any] = {}
    monkeypatch.setattr(pulumi, "export", lambda name, value: exports.__setitem__(name, value))
    resolved: dict[str, Any] = {}
    install_mocks()

    @pulumi.runtime.test
    def run():
        runpy.run_path(str(REPO_ROOT / "__main__.py"), run_name="__main__")
        return pulumi.Output.from_input(exports).apply(resolved.update)

    run()
    return resolved


def test_the_program_exports_every_output_of_every_fleet(stack_config, monkeypatch):
    stack_config({"spotfleet:fleets": [GEN, BATCH], "spotfleet:placements": {"gen": GEN_PLACEMENT}})
    exports = run_main(monkeypatch)
    fleets = exports[FLEETS]
    assert sorted(fleets) == ["batch", "gen"]
    for outputs in fleets.values():
        assert tuple(outputs) == FLEET_OUTPUT_KEYS
    assert fleets["gen"]["onDemandGroupName"] == "spotfleet-dev-gen-on-demand"
    assert fleets["gen"]["decisionId"] == "d-20261122-0001"
    assert fleets["batch"]["decisionId"] == ""


def test_the_daemon_policy_covers_every_fleet_without_wildcard_actions(stack_config, monkeypatch):
    stack_config({"spotfleet:fleets": [GEN, BATCH]})
    document = json.loads(run_main(monkeypatch)[DAEMON_POLICY])
    assert not [a for a in allowed_actions(document) if "*" in a]

    def names(sid, sep):
        (found,) = [s for s in document["Statement"] if s["Sid"] == sid]
        return [arn.rsplit(sep, 1)[1] for arn in found["Resource"]]

    groups = names("ResizeOwnGroups", "/")
    assert len(groups) == 10 + 3  # gen: 3 types x 3 subnets + 1; batch: 2 types x 1 + 1
    assert "spotfleet-dev-gen-g5.4xlarge-subnet-0ccc3333" in groups
    assert "spotfleet-dev-batch-on-demand" in groups
    assert names("ConsumeFleetEvents", ":") == [
        "spotfleet-dev-gen-interruptions",
        "spotfleet-dev-gen-job-events",
        "spotfleet-dev-batch-interruptions",
        "spotfleet-dev-batch-job-events",
    ]
    assert names("ReadJobBacklog", ":") == [
        "spotfleet-dev-gen-jobs",
        "spotfleet-dev-gen-jobs-priority",
        "spotfleet-dev-batch-jobs",
        "spotfleet-dev-batch-jobs-priority",
    ]
    (lease,) = [s for s in document["Statement"] if s["Sid"] == "HoldDaemonLease"]
    assert lease["Action"] == ["dynamodb:GetItem", "dynamodb:PutItem"]
    assert lease["Resource"] == [
        "arn:aws:dynamodb:us-east-1:123456789012:table/spotfleet-dev-daemon-lease"
    ]
    bucket = "arn:aws:s3:::spotfleet-dev-history-123456789012"
    (write,) = [s for s in document["Statement"] if s["Sid"] == "WriteHistoryExport"]
    assert write["Resource"] == [f"{bucket}/history/*"]
    (listing,) = [s for s in document["Statement"] if s["Sid"] == "ListHistoryExport"]
    assert listing["Resource"] == [bucket]
    assert listing["Condition"] == {"StringLike": {"s3:prefix": ["history/", "history/*"]}}


def test_the_program_exports_the_lease_table_the_daemon_is_told(stack_config, monkeypatch):
    stack_config({"spotfleet:fleets": [GEN], "spotfleet:namePrefix": "sf-prod"})
    assert run_main(monkeypatch)[DAEMON_LEASE_TABLE] == "sf-prod-daemon-lease"


def test_the_program_exports_where_the_daemon_writes_the_history(stack_config, monkeypatch):
    stack_config({"spotfleet:fleets": [GEN], "spotfleet:namePrefix": "sf-prod"})
    assert run_main(monkeypatch)[HISTORY] == {
        "bucket": "sf-prod-history-123456789012",
        "exportUri": "s3://sf-prod-history-123456789012/history/",
    }


def test_name_prefix_from_config_names_everything(stack_config, monkeypatch):
    stack_config({"spotfleet:fleets": [GEN], "spotfleet:namePrefix": "sf-prod"})
    assert run_main(monkeypatch)[FLEETS]["gen"]["jobQueueUrl"].endswith("/sf-prod-gen-jobs")


def test_an_empty_name_prefix_means_the_stack_default(stack_config, monkeypatch):
    stack_config({"spotfleet:fleets": [GEN], "spotfleet:namePrefix": ""})
    assert (
        run_main(monkeypatch)[FLEETS]["gen"]["onDemandGroupName"] == "spotfleet-dev-gen-on-demand"
    )


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"spotfleet:fleets": [{**GEN, "maxNode": 3}]}, "maxNode: unknown key"),
        (
            {"spotfleet:fleets": [GEN], "spotfleet:placements": {"batch": GEN_PLACEMENT}},
            "placement for fleet 'batch', which is not declared",
        ),
        (
            {
                "spotfleet:fleets": [GEN],
                "spotfleet:placements": {
                    "gen": {
                        **GEN_PLACEMENT,
                        "pools": [
                            {
                                "instanceType": "p4d.24xlarge",
                                "subnetId": "subnet-0aaa1111",
                                "nodes": 1,
                            }
                        ],
                    }
                },
            },
            "pools[0] (p4d.24xlarge in subnet-0aaa1111): instanceType 'p4d.24xlarge' is not one "
            "the fleet declared",
        ),
        (
            {
                "spotfleet:fleets": [GEN],
                "spotfleet:placements": {"gen": {**GEN_PLACEMENT, "onDemand": 12}},
            },
            "fleet 'gen': the placement holds 17 nodes (g5.4xlarge in subnet-0ccc3333: 2, "
            "g5.xlarge in subnet-0aaa1111: 3; on-demand 12), above twice the fleet's maxNodes (8)",
        ),
        (
            {"spotfleet:fleets": [GEN], "spotfleet:placement": {"gen": GEN_PLACEMENT}},
            "spotfleet:placement: unknown key (did you mean spotfleet:placements?)",
        ),
        (
            {"spotfleet:fleets": [GEN], "spotfleet:namePrefx": "sf-prod"},
            "spotfleet:namePrefx: unknown key (did you mean spotfleet:namePrefix?)",
        ),
        ({"spotfleet:fleets": "[not json"}, "is not a valid 'JSON object'"),
        ({"spotfleet:fleets": [GEN], "spotfleet:namePrefix": "Bad_Prefix"}, "namePrefix"),
    ],
)
def test_a_bad_config_stops_the_program_with_its_message(
    stack_config, monkeypatch, config, message
):
    stack_config(config)
    with pytest.raises(pulumi.RunError) as caught:
        run_main(monkeypatch)
    assert message in str(caught.value)


def test_the_example_stack_runs(stack_config, monkeypatch):
    example = yaml.safe_load((REPO_ROOT / "Pulumi.dev.yaml").read_text())["config"]
    stack_config(example)
    fleets = run_main(monkeypatch)[FLEETS]
    assert sorted(fleets) == ["batch", "gen"]
    assert fleets["gen"]["decisionId"] == "d-20261122-0001"


def test_the_project_file_documents_every_key():
    project = yaml.safe_load((REPO_ROOT / "Pulumi.yaml").read_text())
    assert project["name"] == "spotfleet"
    assert project["runtime"]["name"] == "python"
    assert project["runtime"]["options"]["virtualenv"] == ".venv"
    config = project["config"]
    assert set(config) == {"spotfleet:fleets", "spotfleet:placements", "spotfleet:namePrefix"}
    assert set(config) == set(KNOWN_KEYS)
    from stacks.spec import FleetSpec, Placement, PoolCount

    fleet_doc = config["spotfleet:fleets"]["description"]
    for name, field in FleetSpec.model_fields.items():
        assert f"{field.alias or name} (" in fleet_doc, f"{field.alias or name} undocumented"
    placement_doc = config["spotfleet:placements"]["description"]
    for model in (Placement, PoolCount):
        for name, field in model.model_fields.items():
            assert (field.alias or name) in placement_doc
    # Optional keys need a default, or Pulumi reports them missing on every stack.
    assert config["spotfleet:placements"]["default"] == {}
    assert config["spotfleet:namePrefix"]["default"] == ""
    assert "default" not in config["spotfleet:fleets"]
