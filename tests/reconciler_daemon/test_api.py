"""The status API over real HTTP (uvicorn on a free port), and a fuzz from its OpenAPI."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import uvicorn
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.api.app import SourceHolder, create_app
from reconciler.api.source import DaemonSource, StandbySource
from reconciler.daemon.daemon import Daemon
from reconciler.daemon.ledger import Ledger
from reconciler.daemon.settings import DaemonSettings

from .conftest import Clock, free_port, seed_market
from .helpers import CHEAP, FLEET, RecordingActuator, add_nodes

TOKEN = "s3cret-token"


def serve(app: Any) -> Iterator[str]:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(5)


@pytest.fixture
def daemon(ledger: Ledger) -> Iterator[Daemon]:
    clock = Clock()
    seed_market(ledger, FLEET, now=clock(), prices={CHEAP: 0.30})
    add_nodes(ledger)
    d = Daemon(
        settings=DaemonSettings(fleets=(FLEET,)),
        ledger=ledger,
        actuators={"shadow": RecordingActuator(), "pulumi": RecordingActuator()},
        clock=clock,
    )
    d.schedule.add("reconcile", d.reconcile, every_s=3600, start=True)
    d.schedule.start()
    deadline = time.monotonic() + 20
    while d.schedule.status()["reconcile"]["runs"] == 0:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    yield d
    d.stop()


@pytest.fixture
def holder(daemon: Daemon) -> SourceHolder:
    return SourceHolder(DaemonSource(daemon))


@pytest.fixture
def url(holder: SourceHolder) -> Iterator[str]:
    yield from serve(create_app(holder, token=TOKEN))


def test_reads_say_what_the_daemon_is_doing(url: str) -> None:
    with httpx.Client(base_url=url) as c:
        assert c.get("/healthz").json() == {"ok": True}
        assert c.get("/readyz").status_code == 200
        status = c.get("/status").json()
        assert status["mode"] == "shadow" and status["breaker"]["open"] is False
        assert status["jobs"]["reconcile"]["runs"] >= 1
        gen = status["fleets"]["gen"]
        assert gen["current_placement"] is None and gen["desired_placement"]["pools"]
        pools = c.get("/pools").json()
        assert {p["pool"] for p in pools} == set(FLEET.pools())
        cheap = next(p for p in pools if p["pool"] == CHEAP)
        assert cheap["spot_price"] == 0.30 and "rank 1" in cheap["reason"]
        decisions = c.get("/decisions", params={"limit": 5}).json()
        assert decisions[0]["fleet"] == "gen" and decisions[0]["applied"] is False
        assert len(c.get("/nodes").json()) == 2
        metrics = c.get("/metrics").text
        assert 'spotfleet_daemon_mode{mode="shadow"} 1.0' in metrics
        assert 'spotfleet_daemon_job_runs_total{job="reconcile"}' in metrics


def test_operator_endpoints_need_the_bearer_token(url: str, daemon: Daemon) -> None:
    with httpx.Client(base_url=url) as c:
        assert c.post("/mode", json={"mode": "pulumi"}).status_code == 401
        wrong = {"Authorization": "Bearer nope"}
        assert c.post("/mode", json={"mode": "pulumi"}, headers=wrong).status_code == 401
        auth = {"Authorization": f"Bearer {TOKEN}"}
        assert c.post("/mode", json={"mode": "pulumi"}, headers=auth).status_code == 200
        assert daemon.mode == "pulumi"
        assert c.post("/mode", json={"mode": "yolo"}, headers=auth).status_code == 422
        assert c.post("/breaker/reset", headers=auth).status_code == 200
        runs = daemon.schedule.status()["reconcile"]["runs"]
        assert c.post("/reconcile", headers=auth).status_code == 202
        deadline = time.monotonic() + 20
        while daemon.schedule.status()["reconcile"]["runs"] == runs:
            assert time.monotonic() < deadline
            time.sleep(0.05)
    kinds = daemon.ledger.rows("SELECT kind, detail FROM fleet_actions WHERE fleet = '*'")
    assert {k for k, _ in kinds} == {"mode", "breaker_reset"}


def test_without_a_token_the_operator_endpoints_are_off(holder: SourceHolder) -> None:
    for base in serve(create_app(holder, token=None)):
        with httpx.Client(base_url=base) as c:
            for path in ("/reconcile", "/mode", "/breaker/reset"):
                assert c.post(path, headers={"Authorization": "Bearer x"}).status_code == 404
            assert "/mode" not in c.get("/openapi.json").json()["paths"]


def test_a_standby_is_alive_not_ready_and_refuses_to_act() -> None:
    holder = SourceHolder(StandbySource('{"pid": 4242}'))
    for base in serve(create_app(holder, token=TOKEN)):
        with httpx.Client(base_url=base) as c:
            assert c.get("/healthz").status_code == 200
            ready = c.get("/readyz")
            assert ready.status_code == 503 and "4242" in ready.json()["detail"]
            auth = {"Authorization": f"Bearer {TOKEN}"}
            assert c.post("/reconcile", headers=auth).status_code == 409
            assert "spotfleet_daemon_leader 0.0" in c.get("/metrics").text


# -- fuzz: every operation of the OpenAPI schema, with values it allows and values it doesn't

_junk = st.one_of(
    st.text(max_size=80),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.none(),
)
_json = st.recursive(
    _junk,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3)
    ),
    max_leaves=8,
)


def _operations(schema: dict[str, Any]) -> list[tuple[str, str, list[str]]]:
    return [
        (method.upper(), path, [p["name"] for p in op.get("parameters", [])])
        for path, item in schema["paths"].items()
        for method, op in item.items()
    ]


def test_fuzz_from_the_openapi_schema_never_gets_a_500(url: str) -> None:
    client = httpx.Client(base_url=url, timeout=10)
    operations = _operations(client.get("/openapi.json").json())
    assert len(operations) == 10

    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
    @given(
        op=st.sampled_from(operations),
        params=st.dictionaries(
            st.sampled_from(["fleet", "limit", "include_terminated", "x"]),
            _junk.map(str),
            max_size=3,
        ),
        body=_json | st.binary(max_size=40),
        auth=st.sampled_from([None, f"Bearer {TOKEN}", "Bearer x", "Basic abc", "Bearer x y"]),
    )
    def fuzz(
        op: tuple[str, str, list[str]], params: dict[str, str], body: Any, auth: str | None
    ) -> None:
        method, path, _ = op
        headers = {"Authorization": auth} if auth else {}
        if isinstance(body, bytes):
            r = client.request(method, path, params=params, content=body, headers=headers)
        else:
            r = client.request(method, path, params=params, json=body, headers=headers)
        assert r.status_code < 500, (method, path, params, body, r.text)

    try:
        fuzz()
    finally:
        client.close()
