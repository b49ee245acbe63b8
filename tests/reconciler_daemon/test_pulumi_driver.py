"""The Pulumi actuator's contract with the Automation API.

``FakeStack`` is a fake, on purpose: the real ``pulumi.automation.Stack`` runs the Pulumi
CLI for every call (``select``, ``set_config``, ``up``), and the CLI is not installed here
and cannot be. The fake implements the three methods the driver uses with the real
argument and result types (``ConfigValue``, ``UpResult``, ``UpdateSummary``) and raises
the real error classes, so what is tested is the driver's side of the contract: which key
it writes, what it writes there, that it runs ``up``, and how it treats each error.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import pytest
from pulumi import automation as auto
from pulumi.automation.events import OpType

from reconciler.actuate.pulumi_driver import PLACEMENTS_KEY, PulumiActuator
from reconciler.core.errors import ActuationError, StackBusyError

FLEETS = [
    {
        "name": "gen",
        "instanceTypes": ["g5.xlarge", "g5.2xlarge"],
        "subnetIds": ["subnet-0aaa1111", "subnet-0bbb2222"],
        "amiId": "ami-0abc1234",
        "minNodes": 0,
        "maxNodes": 4,
        "model": "sd-turbo",
    },
    {
        "name": "other",
        "instanceTypes": ["g5.xlarge"],
        "subnetIds": ["subnet-0ccc3333"],
        "amiId": "ami-0abc1234",
        "minNodes": 0,
        "maxNodes": 2,
        "model": "sd-turbo",
    },
]
OTHER = {
    "pools": [{"instanceType": "g5.xlarge", "subnetId": "subnet-0ccc3333", "nodes": 1}],
    "onDemand": 0,
    "decisionId": "d-old",
    "reason": "kept",
}
NEW = {
    "pools": [{"instanceType": "g5.2xlarge", "subnetId": "subnet-0bbb2222", "nodes": 1}],
    "onDemand": 1,
    "decisionId": "d-new",
    "reason": "us-east-1a warned",
}


class FakeStack:
    def __init__(self, *, up_errors: list[Exception] | None = None) -> None:
        self.config: dict[str, auto.ConfigValue] = {
            "spotfleet:fleets": auto.ConfigValue(value=json.dumps(FLEETS)),
            PLACEMENTS_KEY: auto.ConfigValue(value=json.dumps({"other": OTHER})),
            "aws:region": auto.ConfigValue(value="us-east-1"),
        }
        self.set_keys: list[str] = []
        self.ups = 0
        self.cancels = 0
        self._up_errors = list(up_errors or [])

    def get_all_config(self) -> Mapping[str, auto.ConfigValue]:
        return dict(self.config)

    def set_config(self, key: str, value: auto.ConfigValue, *, path: bool = False) -> None:
        self.set_keys.append(key)
        self.config[key] = value

    def up(self, *, on_output: Callable[[str], Any] | None = None) -> auto.UpResult:
        self.ups += 1
        if self._up_errors:
            raise self._up_errors.pop(0)
        if on_output:
            on_output("Updating (dev)\n")
        summary = auto.UpdateSummary(
            kind="update",
            start_time=datetime(2026, 1, 1),
            message="",
            environment={},
            config={},
            result="succeeded",
            resource_changes={OpType.UPDATE: 1, OpType.SAME: 40},
        )
        return auto.UpResult(stdout="", stderr="", summary=summary, outputs={})

    def cancel(self) -> None:  # present so a test can see the driver never calls it
        self.cancels += 1


def busy() -> auto.ConcurrentUpdateError:
    return auto.ConcurrentUpdateError(
        auto.CommandResult("", "conflict: Another update is currently in progress.", 255)
    )


def driver(stack: FakeStack, sleeps: list[float], retries: int = 3) -> PulumiActuator:
    return PulumiActuator(select=lambda: stack, retries=retries, backoff_s=1.0, sleep=sleeps.append)


def test_sets_only_the_placements_key_keeping_other_fleets_then_runs_up() -> None:
    stack, sleeps = FakeStack(), list[float]()
    applied = driver(stack, sleeps).apply("gen", NEW)
    assert stack.set_keys == [PLACEMENTS_KEY] and stack.ups == 1
    written = json.loads(stack.config[PLACEMENTS_KEY].value)
    assert written["other"] == OTHER  # the other fleet's placement survives
    assert written["gen"]["pools"] == NEW["pools"] and written["gen"]["onDemand"] == 1
    assert json.loads(stack.config["spotfleet:fleets"].value) == FLEETS  # people's key untouched
    assert applied.changed and "succeeded" in applied.summary and "update=1" in applied.summary


def test_a_concurrent_update_is_waited_out_with_backoff_never_cancelled() -> None:
    stack, sleeps = FakeStack(up_errors=[busy(), busy()]), list[float]()
    assert driver(stack, sleeps).apply("gen", NEW).changed
    assert stack.ups == 3 and sleeps == [1.0, 2.0] and stack.cancels == 0


def test_a_stack_that_stays_locked_is_an_error_after_the_retries() -> None:
    stack, sleeps = FakeStack(up_errors=[busy()] * 5), list[float]()
    with pytest.raises(StackBusyError) as caught:
        driver(stack, sleeps, retries=2).apply("gen", NEW)
    assert stack.ups == 3 and stack.cancels == 0
    assert isinstance(caught.value.__cause__, auto.ConcurrentUpdateError)


def test_a_failed_up_is_an_actuation_error_with_the_cause() -> None:
    failure = auto.CommandError(auto.CommandResult("", "error: creating ASG: AccessDenied", 1))
    stack = FakeStack(up_errors=[failure])
    with pytest.raises(ActuationError) as caught:
        driver(stack, []).apply("gen", NEW)
    assert caught.value.__cause__ is failure


def test_a_placement_the_fleet_did_not_declare_is_refused_before_any_write() -> None:
    stack = FakeStack()
    bad = {
        **NEW,
        "pools": [{"instanceType": "p4d.24xlarge", "subnetId": "subnet-0aaa1111", "nodes": 1}],
    }
    with pytest.raises(ActuationError, match="refused"):
        driver(stack, []).apply("gen", bad)
    assert stack.set_keys == [] and stack.ups == 0
    with pytest.raises(ActuationError, match="no fleet"):
        driver(stack, []).apply("nope", NEW)
