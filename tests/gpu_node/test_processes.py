"""Real node processes (``run_node`` with a stepping fake model) against moto's server and a
local IMDS: the guarantees that only hold if they hold across processes."""

from __future__ import annotations

import json
import signal
import time
from datetime import datetime

import pytest

from tests.gpu_node.aws_env import Fleet, job
from tests.gpu_node.harness import wait_for
from tests.gpu_node.imds_server import FakeImds

pytestmark = pytest.mark.slow


def _started_by(fleet: Fleet, events: list[dict], instance_id: str) -> list[str]:
    return [
        e["job_id"] for e in events if e["type"] == "started" and e["instance_id"] == instance_id
    ]


def _progressed(fleet: Fleet, job_id: str) -> bool:
    return any(e["type"] == "progress" and e["job_id"] == job_id for e in fleet.events())


def test_a_node_process_runs_jobs_priority_first_dead_letters_bad_ones_and_stops_on_sigterm(
    fleet: Fleet, imds: FakeImds, spawn
) -> None:
    for n in range(3):
        fleet.send(job(f"standard-{n}"))
    fleet.send(job("bad-size", height=12))
    for n in range(2):
        fleet.send(job(f"priority-{n}"), priority=True)
    node = spawn(
        fleet.settings_env(SPOTFLEET_IMDS_URL=imds.url, SPOTFLEET_INSTANCE_ID="i-proc-1"), "node"
    )
    valid = {"standard-0", "standard-1", "standard-2", "priority-0", "priority-1"}
    expected = {f"results/{j}.{ext}" for j in valid for ext in ("png", "json")}
    wait_for(lambda: fleet.result_keys() == expected, timeout=30)
    dead = wait_for(lambda: fleet.drain_queue(fleet.dlq_url, attributes=True), timeout=10)
    node.proc.send_signal(signal.SIGTERM)
    assert node.wait(timeout=15) == 0, node.log()

    events = fleet.events()
    started = _started_by(fleet, events, "i-proc-1")
    assert set(started[:2]) == {"priority-0", "priority-1"}
    assert len(dead) == 1
    assert "height" in dead[0]["MessageAttributes"]["spotfleet-reason"]["StringValue"]
    # The process took its identity from IMDS where no setting overrode it.
    assert fleet.result_record("standard-0")["node"] == "i-proc-1"
    assert "drained; exiting" in node.log()


def test_a_spot_notice_drains_a_node_process_within_two_seconds_and_nothing_is_lost(
    fleet: Fleet, imds: FakeImds, spawn
) -> None:
    env = {
        "FAKE_STEP_SECONDS": "0.3",
        "SPOTFLEET_IMDS_URL": imds.url,
        "SPOTFLEET_PROGRESS_EVENT_SECONDS": "0.5",
    }
    doomed = spawn(fleet.settings_env(SPOTFLEET_INSTANCE_ID="i-doomed", **env), "doomed")
    fleet.send(job("long-job", steps=100))  # 30 s of work
    wait_for(lambda: _progressed(fleet, "long-job"), timeout=20)  # well under way
    # The survivor has its own metadata service: no notice there.
    quiet = FakeImds().start()
    try:
        quiet.set("meta-data/instance-id", "i-survivor")
        survivor = spawn(
            fleet.settings_env(
                SPOTFLEET_IMDS_URL=quiet.url,
                SPOTFLEET_INSTANCE_ID="i-survivor",
                FAKE_STEP_SECONDS="0.01",
            ),
            "survivor",
        )
        when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 30))
        notice_at = time.time()
        imds.set(
            "meta-data/spot/instance-action", json.dumps({"action": "terminate", "time": when})
        )
        noticed = time.monotonic()
        assert doomed.wait(timeout=10) == 0, doomed.log()
        exited_after = time.monotonic() - noticed
        wait_for(lambda: "results/long-job.json" in fleet.result_keys(), timeout=30)
        survivor.proc.send_signal(signal.SIGTERM)
        assert survivor.wait(timeout=15) == 0, survivor.log()
    finally:
        quiet.stop()

    events = [e for e in fleet.events() if e["job_id"] == "long-job"]
    released = [e for e in events if e["type"] == "released"]
    assert len(released) == 1
    assert released[0]["instance_id"] == "i-doomed"
    given_back_after = datetime.fromisoformat(released[0]["at"]).timestamp() - notice_at
    assert given_back_after < 2.0  # notice seen (<= 1 s poll) and the job given back
    assert exited_after < 4.0  # and the process gone soon after
    assert fleet.result_record("long-job")["node"] == "i-survivor"
    assert [e["instance_id"] for e in events if e["type"] == "completed"] == ["i-survivor"]


def test_a_sigkilled_worker_among_several_loses_nothing(
    fleet: Fleet, imds: FakeImds, spawn
) -> None:
    job_ids = [f"job-{n:02d}" for n in range(9)]
    for job_id in job_ids:
        fleet.send(job(job_id, steps=4))
    fleet.send(job("invalid-steps", steps=1000))
    nodes = {
        name: spawn(
            fleet.settings_env(
                SPOTFLEET_IMDS_URL=imds.url,
                SPOTFLEET_INSTANCE_ID=name,
                SPOTFLEET_VISIBILITY_SECONDS="3",
                FAKE_STEP_SECONDS="0.2",
            ),
            name,
        )
        for name in ("i-a", "i-b", "i-c")
    }

    # Kill i-b while it is in the middle of a job (started, not completed).
    killed: set[str] = set()

    def mid_job() -> bool:
        events = fleet.events()
        started = {
            e["job_id"] for e in events if e["type"] == "started" and e["instance_id"] == "i-b"
        }
        done = {
            e["job_id"] for e in events if e["type"] == "completed" and e["instance_id"] == "i-b"
        }
        killed.update(started - done)
        return bool(killed)

    wait_for(mid_job, timeout=30, every=0.05)
    nodes["i-b"].proc.kill()
    assert nodes["i-b"].proc.wait(timeout=5) == -signal.SIGKILL

    expected = {f"results/{j}.{ext}" for j in job_ids for ext in ("png", "json")}
    wait_for(lambda: fleet.result_keys() == expected, timeout=60)
    dead = wait_for(lambda: fleet.drain_queue(fleet.dlq_url), timeout=10)
    for name in ("i-a", "i-c"):
        nodes[name].proc.send_signal(signal.SIGTERM)
    for name in ("i-a", "i-c"):
        assert nodes[name].wait(timeout=15) == 0, nodes[name].log()

    assert fleet.result_keys() == expected  # exactly one result per valid job, nothing else
    assert fleet.drain_queue(fleet.queue_url) == []
    assert [json.loads(m["Body"])["job_id"] for m in dead] == ["invalid-steps"]
    events = fleet.events()
    completed = {e["job_id"] for e in events if e["type"] == "completed"}
    assert completed >= set(job_ids) - killed
    for job_id in killed:
        # Run again by a survivor; or, if i-b stored it just before dying, left as it was.
        by = {
            e["instance_id"] for e in events if e["type"] == "completed" and e["job_id"] == job_id
        }
        assert by <= {"i-a", "i-c"}
        assert by or fleet.result_record(job_id)["node"] == "i-b"


def test_sigterm_takes_the_same_drain_path_and_gives_a_long_job_back(
    fleet: Fleet, imds: FakeImds, spawn
) -> None:
    node = spawn(
        fleet.settings_env(
            SPOTFLEET_IMDS_URL=imds.url,
            SPOTFLEET_INSTANCE_ID="i-term",
            SPOTFLEET_DRAIN_DEADLINE_SECONDS="10",  # systemd would say 120; the job needs 30
            SPOTFLEET_PROGRESS_EVENT_SECONDS="0.5",
            FAKE_STEP_SECONDS="0.3",
        ),
        "term",
    )
    fleet.send(job("interrupted", steps=100))
    wait_for(lambda: _progressed(fleet, "interrupted"), timeout=20)  # well under way
    signalled = time.monotonic()
    node.proc.send_signal(signal.SIGTERM)
    back = wait_for(lambda: fleet.drain_queue(fleet.queue_url), timeout=5, every=0.05)
    given_back_after = time.monotonic() - signalled
    assert node.wait(timeout=10) == 0, node.log()

    assert given_back_after < 1.0  # no polling on this path: the signal is the notice
    assert json.loads(back[0]["Body"])["job_id"] == "interrupted"
    types = [e["type"] for e in fleet.events() if e["job_id"] == "interrupted"]
    assert types[-1] == "released"
    assert fleet.result_keys() == set()
    assert "SIGTERM received: draining" in node.log()


def test_an_idle_node_stops_its_long_poll_and_exits_within_seconds_of_the_spot_notice(
    fleet: Fleet, imds: FakeImds, spawn
) -> None:
    node = spawn(
        fleet.settings_env(
            SPOTFLEET_IMDS_URL=imds.url,
            SPOTFLEET_INSTANCE_ID="i-idle",
            SPOTFLEET_POLL_WAIT_SECONDS="20",  # production's long poll
        ),
        "idle",
    )
    fleet.send(job("warm-up"))
    wait_for(lambda: "results/warm-up.json" in fleet.result_keys(), timeout=30)
    # Idle now, inside a 20 s long poll.
    when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 120))
    imds.set("meta-data/spot/instance-action", json.dumps({"action": "terminate", "time": when}))
    noticed = time.monotonic()
    assert node.wait(timeout=15) == 0, node.log()
    exited_after = time.monotonic() - noticed

    # The watcher polls every 1 s and a receive waits at most 1 s at a time.
    assert exited_after < 4.0, f"exited {exited_after:.1f} s after the notice"
    assert "spot instance-action terminate: draining" in node.log()
