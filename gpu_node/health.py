"""The health API: ``/health``, ``/metrics`` (Prometheus) and ``POST /generate``.

Bound to 127.0.0.1 unless told otherwise: it can make images, so it is not for the world.
``/generate`` shares the one GPU with the worker through the same lock: one job at a time.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import uvicorn
from fastapi import FastAPI, HTTPException, Response
from pydantic import BaseModel

from gpu_node.backend import Backend
from gpu_node.errors import NodeError
from gpu_node.identity import NodeIdentity
from gpu_node.jobs import Job
from gpu_node.metrics import NodeMetrics
from gpu_node.state import NodeState

__all__ = ["HealthServer", "build_app"]

log = logging.getLogger(__name__)


class CurrentJob(BaseModel):
    job_id: str
    started_at: str
    step: int
    total_steps: int


class Health(BaseModel):
    status: str  # "starting", "ok", "draining"
    model_loaded: bool
    draining: bool
    model: str | None
    instance_id: str
    pool: str
    current_job: CurrentJob | None


class BackendSlot:
    """The backend, once loaded; the API starts before the model is ready."""

    def __init__(self) -> None:
        self.backend: Backend | None = None


def build_app(
    *,
    state: NodeState,
    metrics: NodeMetrics,
    identity: NodeIdentity,
    slot: BackendSlot,
    gpu_lock: threading.Lock,
) -> FastAPI:
    app = FastAPI(title="spotfleet node", docs_url=None, redoc_url=None)

    @app.get("/health")
    def health() -> Health:
        running = state.current
        current = None
        if running is not None:
            current = CurrentJob(
                job_id=running.job.job_id,
                started_at=running.started_at.isoformat(),
                step=running.steps_done,
                total_steps=running.job.steps,
            )
        draining = state.draining.is_set()
        status = "draining" if draining else ("ok" if state.model_loaded else "starting")
        return Health(
            status=status,
            model_loaded=state.model_loaded,
            draining=draining,
            model=slot.backend.model_name if slot.backend else None,
            instance_id=identity.instance_id,
            pool=identity.pool,
            current_job=current,
        )

    @app.get("/metrics")
    def prometheus() -> Response:
        return Response(metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")

    @app.post("/generate", responses={200: {"content": {"image/png": {}}}})
    def generate(job: Job) -> Response:
        # A plain def: FastAPI runs it in a thread, so a long generation blocks no other request.
        backend = slot.backend
        if backend is None or not state.model_loaded:
            raise HTTPException(503, "model not loaded yet")
        if state.draining.is_set():
            raise HTTPException(503, "node is draining")
        started = time.monotonic()
        try:
            with gpu_lock:
                png = backend.generate(job, lambda done, total: None)
        except NodeError as exc:
            raise HTTPException(500, str(exc)) from exc
        seconds = time.monotonic() - started
        return Response(
            png, media_type="image/png", headers={"X-Generate-Seconds": f"{seconds:.3f}"}
        )

    return app


class HealthServer:
    """uvicorn in a thread of the node (off the main thread it installs no signal handlers)."""

    def __init__(self, app: Any, *, host: str, port: int) -> None:
        # log_config=None: uvicorn's records go to the process's own (redacting) handlers.
        config = uvicorn.Config(
            app, host=host, port=port, log_level="warning", access_log=False, log_config=None
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="health", daemon=True)

    def start(self, timeout: float = 10.0) -> None:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise NodeError("health API did not start (is the port taken?)")
            time.sleep(0.02)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=5)
