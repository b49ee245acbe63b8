"""``GET /status`` under load: target p99 < 10 ms at 200 requests/s from a second process.

The daemon side is real: the status API (uvicorn) over a daemon with a 500-pool fleet
measured twice: idle, and with its reconcile job running every 2 s in the background (it
holds the history's lock and competes for the GIL; /status must not wait for the lock). The load comes from a separate Python process
with one keep-alive connection, paced at 200 requests/s for 15 s.
Run: ``.venv/bin/python -m benchmarks.daemon_status``.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import uvicorn

from analytics.store import open_history
from benchmarks.daemon_reconcile import NOW, build
from reconciler.actuate.shadow import ShadowActuator
from reconciler.api.app import SourceHolder, create_app
from reconciler.api.source import DaemonSource
from reconciler.core.history.ledger import Ledger
from reconciler.core.settings import DaemonSettings
from reconciler.daemon.daemon import Daemon

LOAD = """
import json, sys, time, httpx
url, rps, seconds = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
lat = []
with httpx.Client() as c:
    c.get(url)
    start = time.perf_counter()
    n = int(rps * seconds)
    for i in range(n):
        due = start + i / rps
        while (now := time.perf_counter()) < due:
            time.sleep(min(0.001, due - now))
        t = time.perf_counter()
        r = c.get(url)
        lat.append(time.perf_counter() - t)
        assert r.status_code == 200
    elapsed = time.perf_counter() - start
lat.sort()
print(json.dumps({"n": n, "rps": n / elapsed, "p50": lat[n // 2], "p99": lat[int(n * 0.99)],
                  "max": lat[-1]}))
"""


def main() -> None:
    measure(background_every_s=None)
    measure(background_every_s=2.0)


def measure(background_every_s: float | None) -> None:
    sys.setswitchinterval(0.001)  # as reconciler.daemon.command.run sets it
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "history.duckdb"
        fleet = build(path, 8)
        history = open_history(path)
        daemon = Daemon(
            settings=DaemonSettings(fleets=(fleet,)),
            ledger=Ledger(history),
            actuators={"shadow": ShadowActuator()},
            clock=lambda: NOW,
        )
        daemon.reconcile()  # /status and /pools have something to show
        if background_every_s is not None:
            daemon.schedule.add(
                "reconcile", daemon.reconcile, every_s=background_every_s, start=True
            )
        daemon.schedule.start()
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        app = create_app(SourceHolder(DaemonSource(daemon)), token=None)
        server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error", access_log=False)
        )
        threading.Thread(target=server.run, daemon=True).start()
        while not server.started:
            time.sleep(0.05)
        out = subprocess.run(
            [sys.executable, "-c", LOAD, f"http://127.0.0.1:{port}/status", "200", "15"],
            capture_output=True,
            text=True,
            check=True,
        )
        result = json.loads(out.stdout)
        runs = daemon.schedule.status().get("reconcile", {}).get("runs", 0)
        server.should_exit = True
        daemon.stop()
        history.close()
    print(
        f"/status: {result['n']} requests at {result['rps']:.0f}/s from a second process, "
        f"p50 {result['p50'] * 1000:.2f} ms, p99 {result['p99'] * 1000:.2f} ms, "
        f"max {result['max'] * 1000:.2f} ms (target p99 < 10 ms); "
        f"{runs} background reconciles of 500 pools ran meanwhile"
    )


if __name__ == "__main__":
    main()
