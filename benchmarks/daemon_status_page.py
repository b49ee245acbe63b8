"""``GET /`` (the status page) over the reconcile benchmark's history: 500 pools, 90 days.

Times the snapshot (``DaemonSource.page_view``: the daemon's memory and the history's
reads) and the pure render apart, for a day's and a month's chart window, then the whole
request through uvicorn. Run: ``.venv/bin/python -m benchmarks.daemon_status_page``.
"""

from __future__ import annotations

import statistics
import tempfile
import threading
import time
from pathlib import Path

import httpx
import uvicorn

from analytics.store import open_history
from benchmarks.daemon_reconcile import NOW, build
from reconciler.actuate.shadow import ShadowActuator
from reconciler.api.app import SourceHolder, create_app
from reconciler.api.page import render_status_page
from reconciler.api.source import DaemonSource
from reconciler.core.history.ledger import Ledger
from reconciler.core.settings import DaemonSettings
from reconciler.daemon.daemon import Daemon

RUNS = 7


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "history.duckdb"
        fleet = build(path, 90)
        with open_history(path) as history:
            daemon = Daemon(
                settings=DaemonSettings(fleets=(fleet,)),
                ledger=Ledger(history),
                actuators={"shadow": ShadowActuator()},
                clock=lambda: NOW,
            )
            for _ in range(10):
                daemon.reconcile()  # a plan for the pool table, decisions for their list
            source = DaemonSource(daemon, extras=lambda: {"market clock": "2023-02-21 14:05"})
            for days in (1, 30):
                gather, render = [], []
                for _ in range(RUNS):
                    t = time.perf_counter()
                    snapshot = source.page_view(days * 86400.0)
                    gather.append(time.perf_counter() - t)
                    t = time.perf_counter()
                    page = render_status_page(snapshot)
                    render.append(time.perf_counter() - t)
                print(
                    f"status page, 500 pools, {days}-day chart: snapshot median "
                    f"{1000 * statistics.median(gather):.1f} ms, render median "
                    f"{1000 * statistics.median(render):.2f} ms, {len(page) / 1024:.0f} KiB"
                )
            app = create_app(SourceHolder(source), token=None)
            server = uvicorn.Server(uvicorn.Config(app, port=0, log_level="error"))
            thread = threading.Thread(target=server.run, daemon=True)
            thread.start()
            while not server.started:
                time.sleep(0.02)
            port = server.servers[0].sockets[0].getsockname()[1]
            with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
                client.get("/")
                whole = []
                for _ in range(RUNS):
                    t = time.perf_counter()
                    assert client.get("/").status_code == 200
                    whole.append(time.perf_counter() - t)
            server.should_exit = True
            thread.join(5)
            print(f"GET / through uvicorn: median {1000 * statistics.median(whole):.1f} ms")


if __name__ == "__main__":
    main()
