"""The status API over real HTTP (uvicorn on a free port), and a fuzz from its OpenAPI."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markupsafe import escape

from reconciler.api.app import SourceHolder, create_app
from reconciler.api.source import DaemonSource, StandbySource
from reconciler.core.history.ledger import Ledger
from reconciler.core.settings import DaemonSettings
from reconciler.daemon.daemon import Daemon
from tests.history_rows import history_rows

from .conftest import Clock, seed_market
from .helpers import (
    CHEAP,
    FLEET,
    PAGE_REASON,
    XL2_A,
    XL2_B,
    ZONE_B,
    RecordingActuator,
    add_nodes,
    make_page_daemon,
    serve,
)

TOKEN = "s3cret-token"


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


@pytest.fixture
def pulumi_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A ``pulumi`` executable on PATH: the mode's preflight only looks for it."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    cli = bin_dir / "pulumi"
    cli.write_text("#!/bin/sh\necho v3.0.0\n")
    cli.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")


@pytest.mark.usefixtures("pulumi_on_path")
def test_operator_endpoints_need_the_bearer_token(url: str, daemon: Daemon) -> None:
    with httpx.Client(base_url=url) as c:
        assert c.post("/mode", json={"mode": "pulumi"}).status_code == 401
        wrong = {"Authorization": "Bearer nope"}
        assert c.post("/mode", json={"mode": "pulumi"}, headers=wrong).status_code == 401
        auth = {"Authorization": f"Bearer {TOKEN}"}
        assert c.post("/mode", json={"mode": "pulumi"}, headers=auth).status_code == 200
        assert daemon.mode == "pulumi"
        assert c.post("/mode", json={"mode": "yolo"}, headers=auth).status_code == 422
        # 'local' is a real mode, but only the embedded default has its actuator.
        refused = c.post("/mode", json={"mode": "local"}, headers=auth)
        assert refused.status_code == 409 and "no actuator" in refused.json()["detail"]
        assert daemon.mode == "pulumi"
        assert c.post("/breaker/reset", headers=auth).status_code == 200
        runs = daemon.schedule.status()["reconcile"]["runs"]
        assert c.post("/reconcile", headers=auth).status_code == 202
        deadline = time.monotonic() + 20
        while daemon.schedule.status()["reconcile"]["runs"] == runs:
            assert time.monotonic() < deadline
            time.sleep(0.05)
    kinds = history_rows(daemon.ledger, "SELECT kind, detail FROM fleet_actions WHERE fleet = '*'")
    assert {k for k, _ in kinds} == {"mode", "breaker_reset"}


def test_pulumi_mode_without_the_cli_on_path_is_refused_when_asked(
    url: str, daemon: Daemon, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # nothing there
    auth = {"Authorization": f"Bearer {TOKEN}"}
    refused = httpx.post(f"{url}/mode", json={"mode": "pulumi"}, headers=auth)
    assert refused.status_code == 409
    assert "needs the Pulumi CLI" in refused.json()["detail"]
    assert daemon.mode == "shadow"


def test_the_bearer_scheme_is_case_insensitive(url: str) -> None:
    for scheme in ("bearer", "BEARER", "Bearer"):
        headers = {"Authorization": f"{scheme} {TOKEN}"}
        assert httpx.post(f"{url}/breaker/reset", headers=headers).status_code == 200, scheme
    for header in (f"Basic {TOKEN}", f"Bearer {TOKEN} x", f"Bearer{TOKEN}", TOKEN):
        r = httpx.post(f"{url}/breaker/reset", headers={"Authorization": header})
        assert r.status_code == 401, header
        assert r.headers["www-authenticate"] == "Bearer"


def test_the_served_schema_types_every_answer_and_declares_the_token(url: str) -> None:
    schema = httpx.get(f"{url}/openapi.json").json()
    paths, components = schema["paths"], schema["components"]["schemas"]

    def ok_schema(path: str, method: str = "get") -> dict[str, Any]:
        op = paths[path][method]
        code = "202" if path == "/reconcile" else "200"
        return dict(op["responses"][code]["content"]["application/json"]["schema"])

    assert ok_schema("/status") == {"$ref": "#/components/schemas/StatusOut"}
    assert ok_schema("/healthz") == {"$ref": "#/components/schemas/HealthOut"}
    assert ok_schema("/readyz") == {"$ref": "#/components/schemas/ReadinessOut"}
    readyz_503 = paths["/readyz"]["get"]["responses"]["503"]["content"]["application/json"]
    assert readyz_503["schema"] == {"$ref": "#/components/schemas/ReadinessOut"}
    for path, model in (
        ("/pools", "PoolOut"),
        ("/decisions", "DecisionOut"),
        ("/nodes", "NodeOut"),
    ):
        assert ok_schema(path)["items"] == {"$ref": f"#/components/schemas/{model}"}, path
    status = components["StatusOut"]["properties"]
    assert {"role", "mode", "breaker", "jobs", "fleets", "readiness"} <= set(status)
    fleet = components["FleetStatusOut"]["properties"]
    assert {"$ref": "#/components/schemas/PlacementOut"} in fleet["current_placement"]["anyOf"]
    assert set(components["PlacementOut"]["properties"]) >= {"pools", "onDemand"}
    # The bearer token, as a security scheme every POST names.
    assert schema["components"]["securitySchemes"]["HTTPBearer"] == {
        "type": "http",
        "description": "the daemon's api_token",
        "scheme": "bearer",
    }
    for path in ("/reconcile", "/mode", "/breaker/reset"):
        op = paths[path]["post"]
        assert op["security"] == [{"HTTPBearer": []}], path
        assert {"401", "409"} <= set(op["responses"]), path
    assert ok_schema("/mode", "post") == {"$ref": "#/components/schemas/Accepted"}
    operator = [p for p in paths if p.startswith("/fleets/")] + ["/retrain"]
    assert len(operator) == 8
    for path in operator:
        op = paths[path]["post"]
        assert op["security"] == [{"HTTPBearer": []}], path
        assert {"401", "404", "409", "422"} <= set(op["responses"]), path
        body = op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        assert body.rsplit("/", 1)[1] in {"ReasonIn", "CordonIn", "UncordonIn", "FloorIn"}
    floor = components["FloorIn"]
    assert set(floor["required"]) == {"min_nodes", "reason", "for_s"}
    assert floor["additionalProperties"] is False
    assert paths["/mode"]["post"]["responses"]["409"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Problem"
    }
    # /metrics is Prometheus' text format, in the schema and on the wire.
    text = "text/plain; version=0.0.4; charset=utf-8"
    assert text in paths["/metrics"]["get"]["responses"]["200"]["content"]
    assert httpx.get(f"{url}/metrics").headers["content-type"] == text


def test_the_mode_metric_has_a_series_for_every_mode(url: str) -> None:
    metrics = httpx.get(f"{url}/metrics").text
    for mode, value in (("shadow", "1.0"), ("pulumi", "0.0"), ("local", "0.0")):
        assert f'spotfleet_daemon_mode{{mode="{mode}"}} {value}' in metrics


def test_without_a_token_the_operator_endpoints_are_off(holder: SourceHolder) -> None:
    for base in serve(create_app(holder, token=None)):
        with httpx.Client(base_url=base) as c:
            for path in ("/reconcile", "/mode", "/breaker/reset", "/fleets/gen/pause", "/retrain"):
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
            pause = c.post("/fleets/gen/pause", json={"reason": "x"}, headers=auth)
            assert pause.status_code == 409 and "4242" in pause.json()["detail"]
            assert "spotfleet_daemon_leader 0.0" in c.get("/metrics").text


# -- the status page: the same app, HTML for a person

EXTRAS = {"market clock": "2023-02-21 14:05", "jobs submitted": 120, "jobs lost": 0}


@pytest.fixture
def page_daemon(ledger: Ledger) -> Iterator[Daemon]:
    d = make_page_daemon(ledger, Clock())
    yield d
    d.stop()


def test_the_status_page_shows_each_section_over_a_real_history(page_daemon: Daemon) -> None:
    holder = SourceHolder(DaemonSource(page_daemon, extras=lambda: dict(EXTRAS)))
    for base in serve(create_app(holder, token=None)):
        r = httpx.get(f"{base}/")
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
        page = r.text
        for heading in ("Run", "Failing jobs", "Fleet by pool", "Recent decisions"):
            assert (f">{heading}</h" in page) is (heading != "Failing jobs"), heading
        for heading in ("Placement score over time", "Cost so far against on-demand", "Jobs"):
            assert f">{heading}</h3>" in page
        assert '<meta http-equiv="refresh" content="10">' in page
        assert not re.search(r'\b(src|href)="(?!data:)|@import|url\(|https?://', page)
        assert "<dt>jobs submitted</dt><dd>120</dd>" in page
        for pool in (CHEAP, ZONE_B, XL2_A):
            assert f'<tr class="live" data-pool="{pool}">' in page
        assert f'<tr class="idle" data-pool="{XL2_B}">' in page
        assert "2 spot" in page and "1 on-demand" in page
        assert escape(PAGE_REASON) in page
        latest = page_daemon.reconciler.last_decision["gen"]
        assert escape(latest.reason) in page
        # The history holds placement scores and no capacity observations: a line per pool.
        drawn = re.findall(r'<path class="series score" data-series="([^"]+)"', page)
        assert sorted(drawn) == sorted([CHEAP, ZONE_B, XL2_A, XL2_B])
        cheap = re.search(rf'data-series="{re.escape(CHEAP)}"[^>]* d="([^"]+)"', page)
        assert cheap is not None and cheap.group(1).count("V") == 2  # its dip to 3, and back
        assert page.count('class="series nodes"') == 1
        assert "$8.22" in page and "$19.34" in page and "0.43&times;" in page
        assert '<div data-state="completed"><dt>completed</dt><dd>40</dd>' in page
        assert "group desired <strong>4</strong>" in page
        shorter = httpx.get(f"{base}/", params={"hours": 2}).text
        assert "chart window 2 h" in shorter
        assert httpx.get(f"{base}/", params={"hours": 0}).status_code == 422


def test_extras_reach_status_and_a_failing_callable_breaks_neither(page_daemon: Daemon) -> None:
    def broken() -> dict[str, object]:
        raise RuntimeError("the market replay is not running")

    holder = SourceHolder(DaemonSource(page_daemon, extras=lambda: dict(EXTRAS)))
    for base in serve(create_app(holder, token=None)):
        status = httpx.get(f"{base}/status").json()
        assert status["embedded"] == EXTRAS and status["embedded_error"] is None
        assert list(status["embedded"]) == list(EXTRAS)  # the embedding's order
        holder.source = DaemonSource(page_daemon, extras=broken)
        status = httpx.get(f"{base}/status").json()
        assert status["embedded"] is None
        assert status["embedded_error"] == "RuntimeError: the market replay is not running"
        page = httpx.get(f"{base}/")
        assert page.status_code == 200
        assert "RuntimeError: the market replay is not running" in page.text
        holder.source = DaemonSource(page_daemon)
        assert "embedded" not in httpx.get(f"{base}/status").json()
        assert ">Run</h2>" not in httpx.get(f"{base}/").text


def test_a_standby_page_says_who_holds_the_lease() -> None:
    holder = SourceHolder(StandbySource('{"pid": 4242, "host": "<b>"}'))
    for base in serve(create_app(holder, token=None)):
        r = httpx.get(f"{base}/")
        assert r.status_code == 200
        assert ">Standby</h2>" in r.text
        assert escape('{"pid": 4242, "host": "<b>"}') in r.text
        assert "Fleet by pool" not in r.text


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
    assert len(operations) == 19  # 11, and the 8 operator actions

    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
    @given(
        op=st.sampled_from(operations),
        params=st.dictionaries(
            st.sampled_from(["fleet", "limit", "include_terminated", "hours", "x"]),
            _junk.map(str),
            max_size=3,
        ),
        body=_json | st.binary(max_size=40),
        auth=st.sampled_from([None, f"Bearer {TOKEN}", "Bearer x", "Basic abc", "Bearer x y"]),
        target=st.sampled_from(["gen", "i-0", "nope", "%00", "x" * 80, "é"]),
    )
    def fuzz(
        op: tuple[str, str, list[str]],
        params: dict[str, str],
        body: Any,
        auth: str | None,
        target: str,
    ) -> None:
        method, path, _ = op
        path = path.replace("{fleet}", target).replace("{instance_id}", target)
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
