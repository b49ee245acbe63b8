"""A local instance metadata service (IMDSv2) for local node processes and the demo.

One server on 127.0.0.1 serves any number of simulated instances, each under its own path
prefix: a node's ``SPOTFLEET_IMDS_URL`` is ``http://127.0.0.1:<port>/<instance-id>``, under
which it asks ``/latest/api/token`` and ``/latest/meta-data/...`` exactly as on EC2 (IMDSv2
only: no token, 401). What AWS would write (the spot notice, a rebalance recommendation, the
Auto Scaling target lifecycle state) is set through the methods, or by a person through the
admin API: ``POST /<instance-id>/_local/spot-interruption?in_seconds=120``, ``.../rebalance``,
``.../asg-termination``, ``.../reset``.
"""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import parse_qs, urlsplit

__all__ = ["LocalImds"]

_TOKEN_HEADER = "X-aws-ec2-metadata-token"  # noqa: S105  (a header name, not a secret)
_TTL_HEADER = "X-aws-ec2-metadata-token-ttl-seconds"
_SPOT = "meta-data/spot/instance-action"
_REBALANCE = "meta-data/events/recommendations/rebalance"
_LIFECYCLE = "meta-data/autoscaling/target-lifecycle-state"


def _aws_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class LocalImds:
    """The metadata of many instances; thread-safe, since the server answers on its threads."""

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self._lock = threading.Lock()
        self._paths: dict[str, dict[str, str]] = {}
        self._tokens: set[str] = set()
        self._server = ThreadingHTTPServer((host, port), self._handler())
        self._server.daemon_threads = True
        self.url = f"http://{host}:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    def start(self) -> LocalImds:
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._server.serve_forever(poll_interval=0.05)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> LocalImds:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def add(self, instance_id: str, *, instance_type: str, zone: str) -> str:
        """Register an instance; returns the base URL its node uses as its IMDS."""
        with self._lock:
            self._paths[instance_id] = {
                "meta-data/instance-id": instance_id,
                "meta-data/instance-type": instance_type,
                "meta-data/placement/availability-zone": zone,
                "meta-data/placement/region": zone[:-1].rstrip("-"),
                _LIFECYCLE: "InService",
            }
        return f"{self.url}/{instance_id}"

    def remove(self, instance_id: str) -> None:
        with self._lock:
            self._paths.pop(instance_id, None)

    def _set(self, instance_id: str, path: str, value: str | None) -> None:
        with self._lock:
            if instance_id not in self._paths:
                raise KeyError(f"no instance {instance_id} in the local IMDS")
            if value is None:
                self._paths[instance_id].pop(path, None)
            else:
                self._paths[instance_id][path] = value

    def spot_interruption(self, instance_id: str, deadline: datetime) -> None:
        """The two-minute notice, as EC2 writes it."""
        body = json.dumps({"action": "terminate", "time": _aws_time(deadline)})
        self._set(instance_id, _SPOT, body)

    def rebalance_recommendation(self, instance_id: str, at: datetime) -> None:
        self._set(instance_id, _REBALANCE, json.dumps({"noticeTime": _aws_time(at)}))

    def set_target_lifecycle_state(self, instance_id: str, state: str) -> None:
        self._set(instance_id, _LIFECYCLE, state)

    def reset(self, instance_id: str) -> None:
        self._set(instance_id, _SPOT, None)
        self._set(instance_id, _REBALANCE, None)
        self._set(instance_id, _LIFECYCLE, "InService")

    def _admin(self, instance_id: str, action: str, query: dict[str, list[str]]) -> None:
        now = datetime.now(UTC)
        actions: dict[str, Callable[[], None]] = {
            "spot-interruption": lambda: self.spot_interruption(
                instance_id, now + timedelta(seconds=float(query.get("in_seconds", ["120"])[0]))
            ),
            "rebalance": lambda: self.rebalance_recommendation(instance_id, now),
            "asg-termination": lambda: self.set_target_lifecycle_state(instance_id, "Terminated"),
            "reset": lambda: self.reset(instance_id),
        }
        if action not in actions:
            raise LookupError(f"admin actions: {', '.join(sorted(actions))}")
        actions[action]()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        imds = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass  # one line per poll of every node would drown the output

            def _reply(self, status: HTTPStatus, body: str = "") -> None:
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _split(self, marker: str) -> tuple[str, str] | None:
                instance, sep, rest = urlsplit(self.path).path.lstrip("/").partition(marker)
                return (instance, rest) if sep else None

            def do_PUT(self) -> None:
                parts = self._split("/latest/")
                if parts is None or parts[1] != "api/token":
                    self._reply(HTTPStatus.NOT_FOUND)
                elif not self.headers.get(_TTL_HEADER, "").isdigit():
                    self._reply(HTTPStatus.BAD_REQUEST, "missing token TTL")
                else:
                    token = secrets.token_urlsafe(24)
                    with imds._lock:
                        imds._tokens.add(token)
                    self._reply(HTTPStatus.OK, token)

            def do_GET(self) -> None:
                parts = self._split("/latest/")
                with imds._lock:
                    authorised = self.headers.get(_TOKEN_HEADER) in imds._tokens
                    value = imds._paths.get(parts[0], {}).get(parts[1]) if parts else None
                if not authorised:  # IMDSv2 only, as the launch template requires
                    self._reply(HTTPStatus.UNAUTHORIZED)
                elif value is None:
                    self._reply(HTTPStatus.NOT_FOUND)
                else:
                    self._reply(HTTPStatus.OK, value)

            def do_POST(self) -> None:
                parts = self._split("/_local/")
                if parts is None:
                    self._reply(HTTPStatus.NOT_FOUND, "admin: POST /<instance-id>/_local/<action>")
                    return
                try:
                    imds._admin(parts[0], parts[1], parse_qs(urlsplit(self.path).query))
                except (KeyError, LookupError, ValueError) as exc:
                    self._reply(HTTPStatus.NOT_FOUND, str(exc))
                    return
                self._reply(HTTPStatus.OK, "ok")

        return Handler
