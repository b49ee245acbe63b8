"""The program as `pulumi up` runs it: __main__.py reading stack config, under mocks."""

from __future__ import annotations

import json
import runpy
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml  # type: ignore[import-untyped]  # no types-PyYAML in the lock

from stacks.outputs import DAEMON_POLICY, FLEET_OUTPUT_KEYS, FLEETS
from stacks.policies import allowed_actions
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
    assert fleets["gen"]["autoScalingGroupName"] == "spotfleet-dev-gen"
    assert fleets["gen"]["decisionId"] == "d-20261122-0001"
    assert fleets["batch"]["decisionId"] == ""


def test_the_daemon_policy_covers_every_fleet_without_wildcard_actions(stack_config, monkeypatch):
    stack_config({"spotfleet:fleets": [GEN, BATCH]})
    document = json.loads(run_main(monkeypatch)[DAEMON_POLICY])
    assert not [a for a in allowed_actions(document) if "*" in a]
    (scale,) = [s for s in document["Statement"] if s["Sid"] == "ScaleOwnGroups"]
    assert [arn.rsplit("/", 1)[1] for arn in scale["Resource"]] == [
        "spotfleet-dev-gen",
        "spotfleet-dev-batch",
    ]
    (read,) = [s for s in document["Statement"] if s["Sid"] == "ReadFleetEvents"]
    assert [arn.rsplit(":", 1)[1] for arn in read["Resource"]] == [
        "spotfleet-dev-gen-interruptions",
        "spotfleet-dev-gen-job-events",
        "spotfleet-dev-batch-interruptions",
        "spotfleet-dev-batch-job-events",
    ]


def test_name_prefix_from_config_names_everything(stack_config, monkeypatch):
    stack_config({"spotfleet:fleets": [GEN], "spotfleet:namePrefix": "sf-prod"})
    assert run_main(monkeypatch)[FLEETS]["gen"]["jobQueueUrl"].endswith("/sf-prod-gen-jobs")


def test_an_empty_name_prefix_means_the_stack_default(stack_config, monkeypatch):
    stack_config({"spotfleet:fleets": [GEN], "spotfleet:namePrefix": ""})
    assert run_main(monkeypatch)[FLEETS]["gen"]["autoScalingGroupName"] == "spotfleet-dev-gen"


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
                        "pools": [{"instanceType": "p4d.24xlarge", "subnetId": "subnet-0aaa1111"}],
                    }
                },
            },
            "pools[0].instanceType 'p4d.24xlarge' is not one the fleet declared",
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
    from stacks.spec import FleetSpec, Placement, PoolChoice

    fleet_doc = config["spotfleet:fleets"]["description"]
    for name, field in FleetSpec.model_fields.items():
        assert f"{field.alias or name} (" in fleet_doc, f"{field.alias or name} undocumented"
    placement_doc = config["spotfleet:placements"]["description"]
    for model in (Placement, PoolChoice):
        for name, field in model.model_fields.items():
            assert (field.alias or name) in placement_doc
    # Optional keys need a default, or Pulumi reports them missing on every stack.
    assert config["spotfleet:placements"]["default"] == {}
    assert config["spotfleet:namePrefix"]["default"] == ""
    assert "default" not in config["spotfleet:fleets"]
