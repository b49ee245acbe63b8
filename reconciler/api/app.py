"""The status API: what the daemon is doing, and the three things an operator may ask.

``GET /`` is the same status for a person: an HTML page (``reconciler.api.page``).

Reads are open (bind to 127.0.0.1 unless a proxy guards them). ``POST`` endpoints need
``Authorization: Bearer <token>``, compared in constant time; without a configured token
they are not mounted at all. The source can be swapped while serving: a standby becomes
the leader when it takes the lease.
"""

import hmac
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from pydantic import BaseModel, ConfigDict

from reconciler.api.metrics import StatusCollector
from reconciler.api.page import render_status_page
from reconciler.api.source import NotLeaderError, Source
from reconciler.daemon.errors import DaemonError
from reconciler.daemon.settings import Mode

__all__ = ["SourceHolder", "create_app"]


class SourceHolder:
    def __init__(self, source: Source) -> None:
        self.source = source


class ModeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    mode: Mode


class Accepted(BaseModel):
    ok: bool
    detail: str


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
    def healthz() -> dict[str, bool]:
        return {"ok": True}

    @app.get("/readyz")
    def readyz() -> JSONResponse:
        ok, why = holder.source.ready()
        return JSONResponse({"ready": ok, "detail": why}, status_code=200 if ok else 503)

    # async: /status reads memory only, so it runs on the event loop without a thread hop,
    # and is rendered directly rather than through response-model validation.
    @app.get("/status", response_class=JSONResponse)
    async def status() -> JSONResponse:
        return JSONResponse(holder.source.status())

    @app.get("/pools")
    def pools(fleet: Annotated[str | None, Query(max_length=64)] = None) -> list[dict[str, Any]]:
        return holder.source.pools(fleet)

    @app.get("/decisions")
    def decisions(
        fleet: Annotated[str | None, Query(max_length=64)] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    ) -> list[dict[str, Any]]:
        return holder.source.decisions(fleet, limit)

    @app.get("/nodes")
    def nodes(
        fleet: Annotated[str | None, Query(max_length=64)] = None,
        include_terminated: bool = False,
    ) -> list[dict[str, Any]]:
        return holder.source.nodes(fleet, include_terminated)

    @app.get("/metrics")
    def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    if token:
        _mount_operator_endpoints(app, src, token)
    return app


def _mount_operator_endpoints(app: FastAPI, src: Any, token: str) -> None:
    expected = f"Bearer {token}".encode()

    def authorized(request: Request) -> str:
        given = request.headers.get("authorization", "").encode()
        if not hmac.compare_digest(given, expected):
            raise HTTPException(
                401, "a valid bearer token is required", headers={"WWW-Authenticate": "Bearer"}
            )
        return request.client.host if request.client else "unknown"

    Caller = Annotated[str, Depends(authorized)]

    def acting(fn: Any) -> Accepted:
        try:
            fn()
        except (NotLeaderError, DaemonError) as exc:  # not the leader, or a mode it cannot run
            raise HTTPException(409, str(exc)) from exc
        return Accepted(ok=True, detail="done")

    @app.post("/reconcile", status_code=202)
    def reconcile(caller: Caller) -> Accepted:
        return acting(lambda: src().reconcile_now())

    @app.post("/mode")
    def mode(body: ModeIn, caller: Caller) -> Accepted:
        return acting(lambda: src().set_mode(body.mode, f"api:{caller}"))

    @app.post("/breaker/reset")
    def breaker_reset(caller: Caller) -> Accepted:
        return acting(lambda: src().reset_breaker(f"api:{caller}"))
