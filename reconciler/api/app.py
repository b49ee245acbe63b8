"""The status API: what the daemon is doing, and what an operator may ask of it (the
reconcile, mode and breaker here; the operator's actions in ``operator_routes``).

``GET /`` is the same status for a person: an HTML page (``reconciler.api.page``).

Reads are open (bind to 127.0.0.1 unless a proxy guards them). ``POST`` endpoints need
``Authorization: Bearer <token>``, compared in constant time; without a configured token
they are not mounted at all. The source can be swapped while serving: a standby becomes
the leader when it takes the lease.
"""

import hmac
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

from reconciler.api.metrics import StatusCollector
from reconciler.api.models import (
    Accepted,
    DecisionOut,
    HealthOut,
    ModeIn,
    NodeOut,
    PoolOut,
    Problem,
    ReadinessOut,
    StatusOut,
)
from reconciler.api.operator_routes import operator_router
from reconciler.api.page import render_status_page
from reconciler.api.source import Source
from reconciler.core.errors import DaemonError

__all__ = ["SourceHolder", "create_app"]


class SourceHolder:
    def __init__(self, source: Source) -> None:
        self.source = source


class PrometheusText(Response):
    # The text format Prometheus has read since 2.0; its newer 1.0.0 name is not understood
    # by every scraper in use.
    media_type = CONTENT_TYPE_PLAIN_0_0_4


def create_app(holder: SourceHolder, *, token: str | None) -> FastAPI:
    app = FastAPI(
        title="spotfleet reconciliation daemon",
        description="Status of the daemon; POST endpoints need a bearer token.",
        version="1",
    )

    # FastAPI's own handler echoes the input back, and fails (500) when the body is not
    # UTF-8; say what was wrong without the input.
    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        detail = [
            {"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": e.get("type")}
            for e in exc.errors()
        ]
        return JSONResponse({"detail": detail}, status_code=422)

    registry = CollectorRegistry()
    registry.register(StatusCollector(lambda: holder.source))

    def src() -> Source:
        return holder.source

    # Sync: the page reads the history, so it runs on the thread pool, off the event loop.
    @app.get("/", response_class=HTMLResponse)
    def page(hours: Annotated[int, Query(ge=1, le=24 * 30)] = 24) -> HTMLResponse:
        """The status page: fleets by pool, decisions, capacity over ``hours``, cost, jobs."""
        return HTMLResponse(render_status_page(holder.source.page_view(window_s=hours * 3600.0)))

    @app.get("/healthz")
    def healthz() -> HealthOut:
        """Alive: the process serves."""
        return HealthOut(ok=True)

    @app.get(
        "/readyz",
        response_model=ReadinessOut,
        responses={503: {"model": ReadinessOut, "description": "not ready, with the reason"}},
    )
    def readyz() -> JSONResponse:
        """Ready: leading (the lease re-checked now), scheduling, every signal fresh."""
        ready = ReadinessOut.of(holder.source.ready())
        return JSONResponse(ready.model_dump(mode="json"), status_code=200 if ready.ready else 503)

    # async: /status reads memory only, so it runs on the event loop without a thread hop.
    @app.get("/status", response_model_exclude_unset=True)
    async def status() -> StatusOut:
        """Role, mode, breaker, readiness, every job's runs, each fleet's placement and size."""
        return holder.source.status()

    @app.get("/pools")
    def pools(fleet: Annotated[str | None, Query(max_length=64)] = None) -> list[PoolOut]:
        """Per pool of the last reconcile: loss probability, prices, the planner's verdict."""
        return holder.source.pools(fleet)

    @app.get("/decisions")
    def decisions(
        fleet: Annotated[str | None, Query(max_length=64)] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    ) -> list[DecisionOut]:
        """The latest decisions from the history, newest first."""
        return holder.source.decisions(fleet, limit)

    @app.get("/nodes")
    def nodes(
        fleet: Annotated[str | None, Query(max_length=64)] = None,
        include_terminated: bool = False,
    ) -> list[NodeOut]:
        """The fleet's nodes from the history."""
        return holder.source.nodes(fleet, include_terminated)

    @app.get(
        "/metrics",
        response_class=PrometheusText,
        responses={200: {"content": {CONTENT_TYPE_PLAIN_0_0_4: {"schema": {"type": "string"}}}}},
    )
    def metrics() -> PrometheusText:
        """Prometheus' text exposition format."""
        return PrometheusText(generate_latest(registry))

    if token:
        _mount_operator_endpoints(app, src, token)
    return app


def _mount_operator_endpoints(app: FastAPI, src: Callable[[], Source], token: str) -> None:
    expected = token.encode()
    # Declared as the schema's security scheme; parsed by FastAPI, which takes the scheme
    # case-insensitively (RFC 7235: "bearer" is "Bearer"). Missing or wrong: our own 401.
    bearer = HTTPBearer(auto_error=False, description="the daemon's api_token")

    def authorized(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> str:
        given = credentials.credentials.encode() if credentials is not None else b""
        if not hmac.compare_digest(given, expected):
            raise HTTPException(
                401, "a valid bearer token is required", headers={"WWW-Authenticate": "Bearer"}
            )
        return request.client.host if request.client else "unknown"

    Caller = Annotated[str, Depends(authorized)]
    refused: dict[int | str, dict[str, Any]] = {
        401: {"model": Problem, "description": "no valid bearer token"},
        409: {"model": Problem, "description": "a standby, or a mode this daemon cannot run"},
    }

    def acting(fn: Callable[[], None]) -> Accepted:
        try:
            fn()
        except DaemonError as exc:  # not the leader, or a mode it cannot run
            raise HTTPException(409, str(exc)) from exc
        return Accepted(ok=True, detail="done")

    app.include_router(operator_router(src, authorized))

    @app.post("/reconcile", status_code=202, responses=refused)
    def reconcile(caller: Caller) -> Accepted:
        """Run the reconcile job now."""
        return acting(lambda: src().reconcile_now())

    @app.post("/mode", responses=refused)
    def mode(body: ModeIn, caller: Caller) -> Accepted:
        """Switch mode; 409 for a mode without its actuator, or whose tools are missing (the
        Pulumi CLI on PATH for ``pulumi``)."""
        return acting(lambda: src().set_mode(body.mode, f"api:{caller}"))

    @app.post("/breaker/reset", responses=refused)
    def breaker_reset(caller: Caller) -> Accepted:
        """Close the breaker."""
        return acting(lambda: src().reset_breaker(f"api:{caller}"))
