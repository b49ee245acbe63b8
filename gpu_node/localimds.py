"""A local stand-in for the instance metadata service, for nodes run as local processes.

IMDSv2 as the node uses it (PUT a token, GET paths with it) plus a small admin API under
``/_local/`` so a demo or an operator can play AWS: send a spot notice, a rebalance
recommendation, or an Auto Scaling termination to one node. Not for production: a real node
talks to the real IMDS at 169.254.169.254.
"""

from __future__ import annotations

import json
import secrets
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

__all__ = ["LocalImds"]

_SPOT = "meta-data/spot/instance-action"
_REBALANCE = "meta-data/events/recommendations/rebalance"
_LIFECYCLE = "meta-data/autoscaling/target-lifecycle-state"


class LocalImds:
    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        instance_id: str = "i-local",
        instance_type: str = "g5.xlarge",
        availability_zone: str = "us-east-1a",
    ) -> None:
        self._token = secrets.token_hex(16)
        self._lock = threading.Lock()
        self._paths: dict[str, str] = {
            "meta-data/instance-id": instance_id,
            "meta-data/instance-type": instance_type,
            "meta-data/placement/availability-zone": availability_zone,
            "meta-data/placement/region": availability_zone[:-1],
            _LIFECYCLE: "InService",
        }
        self._server = ThreadingHTTPServer((host, port), self._handler())
        self._server.daemon_threads = True
        self.url = f"http://{host}:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def start(self) -> LocalImds:
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._server.serve_forever(poll_interval=0.05)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def spot_interruption(self, in_seconds: float = 120.0) -> None:
        when = datetime.now(UTC) + timedelta(seconds=in_seconds)
        notice = {"action": "terminate", "time": when.strftime("%Y-%m-%dT%H:%M:%SZ")}
        self._set(_SPOT, json.dumps(notice))

    def rebalance_recommendation(self) -> None:
        self._set(_REBALANCE, json.dumps({"noticeTime": datetime.now(UTC).isoformat()}))

    def asg_termination(self) -> None:
        self._set(_LIFECYCLE, "Terminated")

    def reset(self) -> None:
        with self._lock:
            self._paths.pop(_SPOT, None)
            self._paths.pop(_REBALANCE, None)
            self._paths[_LIFECYCLE] = "InService"

    def _set(self, path: str, body: str) -> None:
        with self._lock:
            self._paths[path] = body

    def _get(self, path: str) -> str | None:
        with self._lock:
            return self._paths.get(path)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        imds = self
        admin = {
            "spot-interruption": lambda query: imds.spot_interruption(
                float(query.get("in_seconds", ["120"])[0])
            ),
            "rebalance": lambda query: imds.rebalance_recommendation(),
            "asg-termination": lambda query: imds.asg_termination(),
            "reset": lambda query: imds.reset(),
        }

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_PUT(self) -> None:
                if self.path == "/latest/api/token" and self.headers.get(
                    "X-aws-ec2-metadata-token-ttl-seconds"
                ):
                    self._reply(200, imds._token)
                else:
                    self._reply(400, "")

            def do_GET(self) -> None:
                if self.headers.get("X-aws-ec2-metadata-token") != imds._token:
                    self._reply(401, "")
                    return
                body = imds._get(self.path.removeprefix("/latest/"))
                if body is None:
                    self._reply(404, "")
                else:
                    self._reply(200, body)

            def do_POST(self) -> None:
                parts = urlsplit(self.path)
                action = admin.get(parts.path.removeprefix("/_local/"))
                if not parts.path.startswith("/_local/") or action is None:
                    self._reply(404, f"admin actions: {', '.join(sorted(admin))}")
                    return
                try:
                    action(parse_qs(parts.query))
                except ValueError as exc:
                    self._reply(400, str(exc))
                    return
                self._reply(200, "ok")

            def _reply(self, status: int, body: str) -> None:
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler
