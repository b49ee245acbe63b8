"""Operator actions over real HTTP (uvicorn) on a daemon acting on moto's Auto Scaling groups:
pause and resume, cordon and uncordon, drain one node, a fleet's floor, a retrain; each with
the bearer token, recorded with its reason, shown on /status and the status page."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from analytics.store import open_history
from reconciler.actuate.shadow import ShadowActuator
from reconciler.api.app import SourceHolder, create_app
from reconciler.api.source import DaemonSource
from reconciler.core.history.ledger import Ledger
from reconciler.core.settings import DaemonSettings
from reconciler.daemon.daemon import Daemon
from tests.history_rows import history_rows

from .conftest import AwsFleet, Clock, make_aws_fleet
from .helpers import serve

TOKEN = "operator-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@dataclass
class Served:
    url: str
    daemon: Daemon
    aws: AwsFleet
    clock: Clock

    def post(self, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        return httpx.post(f"{self.url}{path}", json=body or {}, headers=AUTH, timeout=60)

    def nodes_by_pool(self) -> dict[str, int]:
        return {p: n for p, n in self.aws.desired_by_pool().items() if n}

    def actions(self) -> list[tuple[str, str | None, str]]:
        return [
            (str(k), t, str(d))
            for k, t, d in history_rows(
                self.daemon.ledger,
                "SELECT kind, target, detail FROM fleet_actions WHERE kind NOT IN "
                "('launch', 'launch_on_demand', 'drain') ORDER BY ts, action_id",
            )
        ]


def make_daemon(aws: AwsFleet, tmp_path: Path, clock: Clock, **settings: Any) -> Daemon:
    daemon = Daemon(
        settings=DaemonSettings(fleets=(aws.fleet,), mode="pulumi", **settings),
        ledger=Ledger(open_history(tmp_path / "history.duckdb")),
        actuators={"shadow": ShadowActuator(), "pulumi": ShadowActuator()},
        clock=clock,
    )
    daemon.collect_prices()
    daemon.observe_fleet()
    return daemon


@pytest.fixture
def served(aws: str, tmp_path: Path) -> Iterator[Served]:
    fleet = make_aws_fleet(desired=2)
    clock = Clock(datetime.now(UTC))  # moto stamps launches with the wall clock
    daemon = make_daemon(fleet, tmp_path, clock)
    try:
        for url in serve(create_app(SourceHolder(DaemonSource(daemon)), token=TOKEN)):
            yield Served(url, daemon, fleet, clock)
    finally:
        daemon.stop()
        daemon.ledger.history.close()


def first_pool(s: Served) -> str:
    (pool,) = s.nodes_by_pool()
    return pool


def test_a_paused_fleet_decides_and_applies_nothing_until_resumed(served: Served) -> None:
    s = served
    assert s.post("/fleets/gen/pause", {"reason": "investigating a bad AMI"}).status_code == 200
    assert s.post(
        "/fleets/gen/floor", {"min_nodes": 4, "for_s": 3600, "reason": "launch"}
    ).is_success
    s.daemon.reconcile()
    decision = s.daemon.reconciler.last_decision["gen"]
    assert not decision.applied and "paused by an operator (investigating a bad AMI)" in (
        decision.reason
    )
    assert sum(s.nodes_by_pool().values()) == 2  # nothing acted on
    status = httpx.get(f"{s.url}/status").json()["fleets"]["gen"]["controls"]
    assert status["paused"]["reason"] == "investigating a bad AMI"
    assert 'spotfleet_fleet_paused{fleet="gen"} 1.0' in httpx.get(f"{s.url}/metrics").text
    assert status["paused"]["by"].startswith("api:127.0.0.1")

    assert s.post("/fleets/gen/resume", {"reason": "AMI fixed"}).status_code == 200
    s.daemon.reconcile()
    assert s.daemon.reconciler.last_decision["gen"].applied
    assert sum(s.nodes_by_pool().values()) == 4  # the floor, now acted on
    kinds = [(k, d) for k, _t, d in s.actions()]
    assert ("pause", "paused: investigating a bad AMI (by api:127.0.0.1)") in kinds
    assert ("resume", "resumed: AMI fixed (by api:127.0.0.1)") in kinds


def test_a_floor_raises_k_until_it_expires_or_is_cleared(served: Served) -> None:
    s = served
    r = s.post("/fleets/gen/floor", {"min_nodes": 3, "for_s": 600, "reason": "a launch event"})
    assert r.status_code == 200 and r.json()["detail"].startswith("at least 3 nodes until")
    s.daemon.reconcile()
    assert "K=3" in s.daemon.reconciler.last_decision["gen"].reason
    assert "operator floor 3 in force" in s.daemon.reconciler.last_decision["gen"].reason
    s.clock.advance(601)  # expired: demand alone sizes the fleet again (it keeps its size)
    s.daemon.reconcile()
    assert "operator floor" not in s.daemon.reconciler.last_decision["gen"].reason
    assert s.post("/fleets/gen/floor", {"min_nodes": 5, "for_s": 600, "reason": "again"}).is_success
    assert s.post("/fleets/gen/floor/clear", {"reason": "event over"}).is_success
    s.daemon.reconcile()
    assert "operator floor" not in s.daemon.reconciler.last_decision["gen"].reason


def test_a_cordoned_pool_takes_no_new_node_and_its_verdict_says_why(served: Served) -> None:
    s = served
    held = first_pool(s)
    body = {"pool": held, "reason": "noisy neighbours", "for_s": 1800}
    r = s.post("/fleets/gen/cordon", body)
    assert r.status_code == 200 and "cordoned until" in r.json()["detail"]
    assert s.post("/fleets/gen/floor", {"min_nodes": 4, "for_s": 600, "reason": "grow"}).is_success
    s.daemon.reconcile()
    by_pool = s.nodes_by_pool()
    assert by_pool[held] == 2 and sum(by_pool.values()) == 4, by_pool  # its nodes stay
    reasons = s.daemon.reconciler.last_decision["gen"].reasons
    assert "cordoned by api:127.0.0.1" in reasons[held] and "noisy neighbours" in reasons[held]

    assert s.post("/fleets/gen/uncordon", {"pool": held, "reason": "quiet again"}).is_success
    controls = httpx.get(f"{s.url}/status").json()["fleets"]["gen"]["controls"]
    assert controls["cordons"] == []
    assert ("cordon", held) in [(k, t) for k, t, _d in s.actions()]


def test_a_drained_node_leaves_through_its_group_and_is_replaced(served: Served) -> None:
    s = served
    victim = s.aws.instances()[0]["InstanceId"]
    r = s.post(f"/fleets/gen/nodes/{victim}/drain", {"reason": "GPU throws Xid 79"})
    assert r.status_code == 200, r.text
    assert "drain requested; reconciled at once (applied)" in r.json()["detail"]
    assert victim not in {i["InstanceId"] for i in s.aws.instances()}
    assert sum(s.nodes_by_pool().values()) == 2  # replaced
    assert ("drain_request", victim) in [(k, t) for k, t, _d in s.actions()]


def test_unknown_targets_are_a_404_naming_them_and_malformed_requests_a_422(
    served: Served,
) -> None:
    s = served
    pool = first_pool(s)
    not_found: dict[str, dict[str, Any]] = {
        "/fleets/nope/pause": {"reason": "x"},
        "/fleets/nope/floor": {"min_nodes": 1, "for_s": 60, "reason": "x"},
        "/fleets/gen/cordon": {"pool": "us-east-1/us-east-1z/g5.xlarge", "reason": "x", "for_s": 9},
        "/fleets/gen/nodes/i-0000000000nothere/drain": {"reason": "x"},
    }
    for path, body in not_found.items():
        r = s.post(path, body)
        assert r.status_code == 404, (path, r.text)
    assert "unknown fleet 'nope': this daemon runs gen" in s.post("/fleets/nope/resume", {
        "reason": "x"}).json()["detail"]  # fmt: skip
    assert "us-east-1z" in s.post("/fleets/gen/uncordon", {
        "pool": "us-east-1/us-east-1z/g5.xlarge", "reason": "x"}).json()["detail"]  # fmt: skip
    assert "i-0000000000nothere" in s.post("/fleets/gen/nodes/i-0000000000nothere/drain", {
        "reason": "x"}).json()["detail"]  # fmt: skip
    malformed: list[tuple[str, dict[str, Any]]] = [
        ("/fleets/gen/pause", {}),  # no reason
        ("/fleets/gen/pause", {"reason": "   "}),  # an empty one
        ("/fleets/gen/pause", {"reason": "x", "force": True}),  # an unknown field
        ("/fleets/gen/cordon", {"pool": pool, "reason": "x", "for_s": -5}),
        ("/fleets/gen/cordon", {"pool": "not-a-pool", "reason": "x", "for_s": 60}),
        ("/fleets/gen/floor", {"min_nodes": -1, "for_s": 60, "reason": "x"}),
        ("/fleets/gen/floor", {"min_nodes": 99, "for_s": 60, "reason": "x"}),  # > max_nodes
        ("/fleets/gen/floor", {"min_nodes": 2, "for_s": "soon", "reason": "x"}),
        ("/retrain", {"reason": 7}),
    ]
    for path, body in malformed:
        r = s.post(path, body)
        assert r.status_code == 422, (path, body, r.text)
    floor = {"min_nodes": 99, "for_s": 60, "reason": "x"}
    (problem,) = s.post("/fleets/gen/floor", floor).json()["detail"]
    assert problem["loc"] == ["body", "min_nodes"]
    assert "above fleet gen's max_nodes 6" in problem["msg"]
    assert s.daemon.operator.controls("gen", s.clock()).floor is None  # nothing was changed


def test_operator_actions_need_the_bearer_token(served: Served) -> None:
    for auth in ({}, {"Authorization": "Bearer wrong"}):
        r = httpx.post(f"{served.url}/fleets/gen/pause", json={"reason": "x"}, headers=auth)
        assert r.status_code == 401
    assert served.daemon.operator.controls("gen", served.clock()).paused is None
    assert served.actions() == []


def test_a_retrain_without_a_model_path_is_refused_and_with_one_runs_the_job(
    aws: str, tmp_path: Path
) -> None:
    fleet = make_aws_fleet(desired=1)
    clock = Clock(datetime.now(UTC))
    plain = make_daemon(fleet, tmp_path / "a", clock)
    for url in serve(create_app(SourceHolder(DaemonSource(plain)), token=TOKEN)):
        r = httpx.post(f"{url}/retrain", json={"reason": "new week"}, headers=AUTH)
        assert r.status_code == 409 and "no model_path" in r.json()["detail"]
    plain.ledger.history.close()

    trained = make_daemon(fleet, tmp_path / "b", clock, model_path=tmp_path / "model")
    trained.schedule.add("retrain", trained.retrain, every_s=86400, start=False, first_in_s=86400)
    trained.schedule.start()
    try:
        for url in serve(create_app(SourceHolder(DaemonSource(trained)), token=TOKEN)):
            r = httpx.post(f"{url}/retrain", json={"reason": "new week"}, headers=AUTH)
            assert r.status_code == 202 and r.json()["detail"] == "retrain started"
            deadline = time.monotonic() + 30
            while trained.schedule.status()["retrain"]["runs"] == 0:
                assert time.monotonic() < deadline, "the retrain job did not run"
                time.sleep(0.05)
        rows = history_rows(trained.ledger, "SELECT kind, detail FROM fleet_actions")
        assert ("retrain_request", "new week (by api:127.0.0.1)") in rows
    finally:
        trained.stop()
        trained.ledger.history.close()


def test_the_status_page_shows_the_controls_and_the_actions_and_changes_nothing(
    served: Served,
) -> None:
    s = served
    pool = first_pool(s)
    s.post("/fleets/gen/pause", {"reason": "<b>maintenance</b>"})
    s.post("/fleets/gen/cordon", {"pool": pool, "reason": "flaky", "for_s": 600})
    page = httpx.get(f"{s.url}/").text
    assert ">Operator actions</h3>" in page and '<span class="badge bad">paused</span>' in page
    assert "&lt;b&gt;maintenance&lt;/b&gt;" in page and "<b>maintenance" not in page
    assert f'<li class="cordon" data-pool="{pool}"><strong>Cordoned</strong>' in page
    assert page.count('<tr data-kind="') == 2
    assert "<form" not in page and "method=" not in page  # read-only: no state from a browser
    for method in ("POST", "PUT", "DELETE"):
        assert httpx.request(method, f"{s.url}/", headers=AUTH).status_code == 405


# -- the CLI: python -m reconciler ctl, reading the daemon's address and token from the
# environment, over the same HTTP


def ctl(url: str | None, *args: str, token: str | None = TOKEN) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPOTFLEET_DAEMON_")}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    if url is not None:
        env["SPOTFLEET_DAEMON_URL"] = url
    if token is not None:
        env["SPOTFLEET_DAEMON_API_TOKEN"] = token
    return subprocess.run(
        [sys.executable, "-m", "reconciler", "ctl", *args],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


@pytest.mark.slow
def test_the_cli_pauses_cordons_floors_and_resumes_a_fleet(served: Served) -> None:
    s = served
    pool = first_pool(s)
    done = ctl(s.url, "pause", "gen", "--reason", "deploying the new model")
    assert done.returncode == 0 and done.stdout.strip() == "paused", done.stderr
    done = ctl(s.url, "cordon", "gen", pool, "--for", "30m", "--reason", "flaky zone")
    assert done.returncode == 0 and "cordoned until" in done.stdout, done.stderr
    done = ctl(s.url, "floor", "gen", "3", "--for", "2h", "--reason", "launch day")
    assert done.returncode == 0 and "at least 3 nodes" in done.stdout, done.stderr
    controls = s.daemon.operator.controls("gen", s.clock())
    assert controls.paused is not None and controls.paused.reason == "deploying the new model"
    (cordon,) = controls.cordons
    assert cordon.pool == pool and (cordon.until - cordon.since).total_seconds() == 1800
    assert controls.floor is not None and controls.floor.min_nodes == 3
    assert ctl(s.url, "resume", "gen", "--reason", "done").returncode == 0
    assert s.daemon.operator.controls("gen", s.clock()).paused is None
    assert TOKEN not in done.stdout + done.stderr


@pytest.mark.slow
def test_the_cli_says_what_the_daemon_refused_and_what_it_could_not_send(served: Served) -> None:
    s = served
    unknown = ctl(s.url, "drain", "gen", "i-0000000000nothere", "--reason", "x")
    assert unknown.returncode == 1
    assert "the daemon answered 404: unknown node 'i-0000000000nothere'" in unknown.stderr
    too_many = ctl(s.url, "floor", "gen", "99", "--reason", "x")
    assert too_many.returncode == 1
    assert "the daemon answered 422: min_nodes: a floor of 99 nodes is above" in too_many.stderr
    bad_duration = ctl(s.url, "cordon", "gen", first_pool(s), "--for", "soon", "--reason", "x")
    assert bad_duration.returncode == 2 and "not a duration" in bad_duration.stderr
    wrong_token = ctl(s.url, "pause", "gen", "--reason", "x", token="not-the-token")
    assert wrong_token.returncode == 1 and "401" in wrong_token.stderr
    no_token = ctl(s.url, "pause", "gen", "--reason", "x", token=None)
    assert no_token.returncode == 2 and "SPOTFLEET_DAEMON_API_TOKEN is not set" in no_token.stderr
    nobody = ctl("http://127.0.0.1:9", "pause", "gen", "--reason", "x")
    assert nobody.returncode == 2 and "cannot reach the daemon at http://127.0.0.1:9" in (
        nobody.stderr
    )
    assert s.daemon.operator.controls("gen", s.clock()).paused is None


def test_the_controls_outlive_a_restart(served: Served) -> None:
    s = served
    s.post("/fleets/gen/pause", {"reason": "overnight"})
    s.post("/fleets/gen/floor", {"min_nodes": 2, "for_s": 3600, "reason": "keep two"})
    again = Daemon(
        settings=s.daemon.settings,
        ledger=s.daemon.ledger,
        actuators={"shadow": ShadowActuator(), "pulumi": ShadowActuator()},
        clock=s.clock,
    )
    controls = again.operator.controls("gen", s.clock())
    assert controls.paused is not None and controls.paused.reason == "overnight"
    assert controls.floor is not None and controls.floor.min_nodes == 2
