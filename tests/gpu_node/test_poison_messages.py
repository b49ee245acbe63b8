"""Poison messages against a live node process: whatever a body does, it is dead-lettered with
its reason and the node goes on serving (issue 15, item 1)."""

from __future__ import annotations

import json
import signal

import pytest

from tests.gpu_node.aws_env import Fleet, job
from tests.gpu_node.conftest import Spawn
from tests.gpu_node.harness import wait_for
from tests.gpu_node.imds_server import FakeImds

pytestmark = pytest.mark.slow

# Each is under the 16 KB body limit, so only what it does inside the parser can stop it.
POISON = {
    "nested-arrays": "[" * 8000 + "]" * 8000,  # json.loads: RecursionError
    "nested-objects": '{"a":' * 2500 + "1" + "}" * 2500,
    "huge-integer": '{"job_id": "big", "seed": ' + "1" * 5000 + "}",  # ValueError: 4300 digits
}


def _reasons(fleet: Fleet) -> dict[str, str]:
    return {
        m["Body"]: m["MessageAttributes"]["spotfleet-reason"]["StringValue"]
        for m in fleet.drain_queue(fleet.dlq_url, attributes=True)
    }


def test_a_poison_message_is_dead_lettered_with_its_reason_and_the_node_serves_on(
    fleet: Fleet, imds: FakeImds, spawn: Spawn
) -> None:
    for body in POISON.values():
        assert len(body.encode()) <= 16384
        fleet.send(body)
    fleet.send(job("after-the-poison"))
    node = spawn(
        fleet.settings_env(SPOTFLEET_IMDS_URL=imds.url, SPOTFLEET_INSTANCE_ID="i-poison"), "poison"
    )

    def stored(job_id: str) -> bool:
        assert node.proc.poll() is None, f"the node exited; log:\n{node.log()}"
        return f"results/{job_id}.json" in fleet.result_keys()

    wait_for(lambda: stored("after-the-poison"), timeout=30)
    seen: dict[str, str] = {}

    def all_dead_lettered() -> bool:
        seen.update(_reasons(fleet))
        return set(seen) == set(POISON.values())

    wait_for(all_dead_lettered, timeout=15)
    assert node.proc.poll() is None, node.log()  # still serving after every poison message
    fleet.send(job("later"))
    wait_for(lambda: stored("later"), timeout=15)
    node.proc.send_signal(signal.SIGTERM)
    assert node.wait(timeout=15) == 0, node.log()

    assert "nested" in seen[POISON["nested-arrays"]]
    assert "nested" in seen[POISON["nested-objects"]]
    assert "digits" in seen[POISON["huge-integer"]]
    assert fleet.drain_queue(fleet.queue_url) == []  # none left to loop through the fleet
    assert "Traceback" not in node.log()
    events = [e for e in fleet.events() if e["type"] == "dead_lettered"]
    assert len(events) == len(POISON)
    assert all(e["error"] for e in events)
    assert json.loads(json.dumps(seen))  # reasons are plain text, fit for an attribute
