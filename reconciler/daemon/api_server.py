"""The status API served on a thread of its own, beside the daemon's jobs: by ``run`` and by
the embedded default alike."""

from __future__ import annotations

import logging
import threading
import time

import uvicorn

from reconciler.api.app import SourceHolder, create_app
from reconciler.core.errors import DaemonError
from reconciler.core.settings import DaemonSettings

__all__ = ["ApiServer", "serve_api"]

log = logging.getLogger(__name__)


class ApiServer(uvicorn.Server):
    """uvicorn on a thread of its own, stopped and joined with ``stop``."""

    thread: threading.Thread | None = None

    def stop(self, timeout_s: float = 10.0) -> None:
        self.should_exit = True
        if self.thread is not None:
            self.thread.join(timeout_s)


def serve_api(holder: SourceHolder, settings: DaemonSettings) -> ApiServer:
    token = settings.api_token.get_secret_value() if settings.api_token else None
    config = uvicorn.Config(
        create_app(holder, token=token),
        host=settings.api_host,
        port=settings.api_port,
        log_level="warning",
        access_log=False,
        # uvicorn's loggers write through the root handler: the chosen format, redacted.
        log_config=None,
    )
    server = ApiServer(config)

    def serve() -> None:
        try:
            server.run()
        except SystemExit:  # uvicorn exits when it cannot bind; the caller reports it
            log.error("status API stopped: cannot listen on %s", settings.api_port)

    thread = threading.Thread(target=serve, name="status-api", daemon=True)
    server.thread = thread
    thread.start()
    # Fail fast on a taken port rather than run unobservable.
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise DaemonError(
                f"the status API could not listen on {settings.api_host}:{settings.api_port}"
            )
        time.sleep(0.02)
    return server
