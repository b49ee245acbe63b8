"""Pulumi's mocks for the stack tests: record every resource's inputs, parent and options."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pytest
from pulumi.runtime.mocks import MockMonitor

from stacks.naming import AwsAccount
from stacks.program import StackInputs, build_fleets, build_history, fleet_outputs
from stacks.spec import parse_fleets, parse_placements

ACCOUNT = AwsAccount(account_id="123456789012", region="us-east-1", partition="aws")
VPC_ID = "vpc-0fleet01"
LATEST_VERSION = 7

GEN: dict[str, Any] = {
    "name": "gen",
    "instanceTypes": ["g5.xlarge", "g5.2xlarge", "g5.4xlarge"],
    "subnetIds": ["subnet-0aaa1111", "subnet-0bbb2222", "subnet-0ccc3333"],
    "amiId": "ami-0abc1234",
    "minNodes": 0,
    "maxNodes": 8,
    "onDemandBase": 1,
    "model": "stabilityai/sdxl-turbo",
    "visibilityTimeoutSeconds": 600,
    "maxReceiveCount": 4,
}
BATCH: dict[str, Any] = {
    "name": "batch",
    "instanceTypes": ["g5.2xlarge", "g5.8xlarge"],
    "subnetIds": ["subnet-0ddd4444"],
    "amiId": "ami-0def5678",
    "minNodes": 1,
    "maxNodes": 3,
    "model": "black-forest-labs/flux-schnell",
    "visibilityTimeoutSeconds": 1800,
    "rootVolumeGiB": 400,
}
GEN_PLACEMENT: dict[str, Any] = {
    "pools": [
        {"instanceType": "g5.4xlarge", "subnetId": "subnet-0ccc3333", "nodes": 2},
        {"instanceType": "g5.xlarge", "subnetId": "subnet-0aaa1111", "nodes": 3},
        {"instanceType": "g5.4xlarge", "subnetId": "subnet-0aaa1111", "nodes": 0},
    ],
    "onDemand": 2,
    "decisionId": "d-20261122-0001",
    "reason": "us-east-1b/g5.xlarge predicted loss 0.42 > 0.30",
}


def fleet(**changes: Any) -> dict[str, Any]:
    """GEN with some keys changed (a value of None removes the key)."""
    declared = copy.deepcopy(GEN)
    for key, value in changes.items():
        if value is None:
            declared.pop(key, None)
        else:
            declared[key] = value
    return declared


def pytest_configure(config: pytest.Config) -> None:
    # pulumi_aws warns, on import, about its own deprecated resources (which we do not use).
    config.addinivalue_line("filterwarnings", "ignore::DeprecationWarning:pulumi_aws")


@dataclass
class Registered:
    typ: str
    name: str
    inputs: dict[str, Any]
    parent: str = ""
    ignore_changes: list[str] = field(default_factory=list)


class FleetMocks(pulumi.runtime.Mocks):
    """Gives each resource the outputs AWS would (ARNs, URLs, ids), derived from its name."""

    def __init__(self) -> None:
        self.registered: dict[tuple[str, str], Registered] = {}
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        inputs = dict(args.inputs)
        self.registered[(args.typ, args.name)] = Registered(args.typ, args.name, inputs)
        name = inputs.get("name", args.name)
        region, account = ACCOUNT.region, ACCOUNT.account_id
        outputs = dict(inputs)
        resource_id = f"{args.name}-id"
        if args.typ == "aws:sqs/queue:Queue":
            outputs["arn"] = f"arn:aws:sqs:{region}:{account}:{name}"
            outputs["url"] = f"https://sqs.{region}.amazonaws.com/{account}/{name}"
            resource_id = outputs["url"]
        elif args.typ == "aws:sns/topic:Topic":
            outputs["arn"] = resource_id = f"arn:aws:sns:{region}:{account}:{name}"
        elif args.typ == "aws:s3/bucket:Bucket":
            resource_id = inputs["bucket"]
            outputs["arn"] = f"arn:aws:s3:::{resource_id}"
        elif args.typ == "aws:cloudwatch/eventRule:EventRule":
            outputs["arn"] = f"arn:aws:events:{region}:{account}:rule/{name}"
            resource_id = name
        elif args.typ in {"aws:iam/role:Role", "aws:iam/instanceProfile:InstanceProfile"}:
            kind = "role" if args.typ.endswith("Role") else "instance-profile"
            outputs["arn"] = f"arn:aws:iam::{account}:{kind}/{name}"
            resource_id = name
        elif args.typ == "aws:ec2/securityGroup:SecurityGroup":
            resource_id = "sg-0node0001"
        elif args.typ == "aws:ec2/launchTemplate:LaunchTemplate":
            resource_id = f"lt-0{abs(hash(name)) % 10**8:08d}"
            outputs["latestVersion"] = LATEST_VERSION
        elif args.typ == "aws:autoscaling/group:Group":
            outputs["arn"] = (
                f"arn:aws:autoscaling:{region}:{account}:autoScalingGroup:"
                f"0000-1111:autoScalingGroupName/{name}"
            )
            resource_id = name
        return resource_id, outputs

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[Any]]:
        self.calls.append((args.token, dict(args.args)))
        if args.token == "aws:ec2/getSubnet:getSubnet":
            return {"id": args.args["id"], "vpcId": VPC_ID}, []
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {"accountId": ACCOUNT.account_id, "arn": "arn:aws:iam::x", "id": "x"}, []
        if args.token == "aws:index/getRegion:getRegion":
            return {"region": ACCOUNT.region, "name": ACCOUNT.region, "id": ACCOUNT.region}, []
        if args.token == "aws:index/getPartition:getPartition":
            return {"partition": ACCOUNT.partition, "id": ACCOUNT.partition}, []
        raise AssertionError(f"unexpected invoke {args.token}")


class RecordingMonitor(MockMonitor):
    """Also records what only the engine sees: each resource's parent and ignore_changes."""

    def __init__(self, mocks: FleetMocks) -> None:
        super().__init__(mocks)
        self.fleet_mocks = mocks
        self.options: dict[tuple[str, str], tuple[str, list[str]]] = {}

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)
        key = (request.type, request.name)
        self.options[key] = (request.parent, list(request.ignoreChanges))
        return response


@dataclass
class Deployed:
    """What a program run registered, and its fleets' outputs."""

    resources: list[Registered]  # components too; their type starts with "spotfleet:"
    outputs: dict[str, dict[str, Any]]
    fleets: dict[str, Any]
    calls: list[tuple[str, dict[str, Any]]]  # invokes: (token, arguments)

    def of_type(self, typ: str) -> list[Registered]:
        return [r for r in self.resources if r.typ == typ]

    def one(self, typ: str, name: str) -> Registered:
        matches = [r for r in self.resources if r.typ == typ and r.name == name]
        assert len(matches) == 1, f"{len(matches)} {typ} named {name}"
        return matches[0]

    def named(self, typ: str, physical_name: str, key: str = "name") -> Registered:
        matches = [r for r in self.of_type(typ) if r.inputs.get(key) == physical_name]
        assert len(matches) == 1, f"{len(matches)} {typ} with {key}={physical_name}"
        return matches[0]


def install_mocks() -> tuple[FleetMocks, RecordingMonitor]:
    fleet_mocks = FleetMocks()
    monitor = RecordingMonitor(fleet_mocks)
    pulumi.runtime.set_mocks(
        fleet_mocks, project="spotfleet", stack="dev", preview=False, monitor=monitor
    )
    return fleet_mocks, monitor


def run_under_mocks(program: Callable[[], Any]) -> Deployed:
    """Run ``program`` (which returns the fleets it built) under fresh mocks and wait for
    every registration."""
    fleet_mocks, monitor = install_mocks()
    captured: dict[str, Any] = {}

    @pulumi.runtime.test  # type: ignore[untyped-decorator]  # pulumi leaves it untyped
    def run() -> pulumi.Output[Any]:
        fleets = program()
        captured["fleets"] = fleets
        outputs = pulumi.Output.from_input(fleet_outputs(fleets))
        return outputs.apply(lambda values: captured.__setitem__("outputs", values))

    run()
    resources = []
    for key, (parent, ignore_changes) in monitor.options.items():
        if key not in fleet_mocks.registered:
            continue  # the root stack, which the mock monitor does not pass to the mocks
        registered = fleet_mocks.registered[key]
        # urn:pulumi:<stack>::<project>::<parent types joined by $>::<name>
        registered.parent = parent.split("::")[2].split("$")[-1] if parent else ""
        registered.ignore_changes = ignore_changes
        resources.append(registered)
    return Deployed(resources, captured["outputs"], captured["fleets"], fleet_mocks.calls)


def deploy(
    fleets: list[dict[str, Any]],
    placements: dict[str, Any] | None = None,
    prefix: str = "spotfleet-dev",
) -> Deployed:
    """Build the stack for these declarations (as config holds them) under mocks."""
    specs = parse_fleets(fleets)
    inputs = StackInputs(
        fleets=specs,
        prefix=prefix,
        account=ACCOUNT,
        placements=parse_placements(placements, specs),
    )

    def program() -> dict[str, Any]:
        build_history(inputs)  # the stack's one history bucket, beside the fleets
        return build_fleets(inputs)

    return run_under_mocks(program)


@pytest.fixture(scope="session")
def placed_stack() -> Deployed:
    """Two fleets, ``gen`` with a placement, ``batch`` without."""
    return deploy([GEN, BATCH], {"gen": GEN_PLACEMENT})
