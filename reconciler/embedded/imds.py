"""A local instance metadata service (IMDSv2) for the embedded default's simulated instances.

One server on 127.0.0.1 serves every node, each under its own path prefix: a node's
``SPOTFLEET_IMDS_URL`` is ``http://127.0.0.1:<port>/<instance-id>``, and it then asks
``/latest/api/token`` and ``/latest/meta-data/...`` under that, exactly as it would on EC2.
The local actuator writes what AWS would: the spot notice, a rebalance recommendation, the
Auto Scaling target lifecycle state.
"""

from __future__ import annotations

import json
import secrets
import threading
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType

__all__ = ["LocalMetadata"]

_TOKEN_HEADER = "X-aws-ec2-metadata-token"  # noqa: S105  (a header name, not a secret)
_TTL_HEADER = "X-aws-ec2-metadata-token-ttl-seconds"


def _aws_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class LocalMetadata:
    """The metadata of many instances; thread-safe, since the server answers on its threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._paths: dict[str, dict[str, str]] = {}
        self._tokens: set[str] = set()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> LocalMetadata:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> LocalMetadata:
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
                "meta-data/autoscaling/target-lifecycle-state": "InService",
            }
        return f"http://127.0.0.1:{self.port}/{instance_id}"

    def remove(self, instance_id: str) -> None:
        with self._lock:
            self._paths.pop(instance_id, None)

    def _set(self, instance_id: str, path: str, value: str) -> None:
        with self._lock:
            if instance_id not in self._paths:
                raise KeyError(f"no instance {instance_id} in the local metadata service")
            self._paths[instance_id][path] = value

    def notify_spot_interruption(self, instance_id: str, deadline: datetime) -> None:
        """The two-minute notice, as EC2 writes it."""
        body = json.dumps({"action": "terminate", "time": _aws_time(deadline)})
        self._set(instance_id, "meta-data/spot/instance-action", body)

    def recommend_rebalance(self, instance_id: str, at: datetime) -> None:
        body = json.dumps({"noticeTime": _aws_time(at)})
        self._set(instance_id, "meta-data/events/recommendations/rebalance", body)

    def set_target_lifecycle_state(self, instance_id: str, state: str) -> None:
        self._set(instance_id, "meta-data/autoscaling/target-lifecycle-state", state)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        metadata = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass  # one line per poll of every node would drown the demo's output

            def _reply(self, status: HTTPStatus, body: str = "") -> None:
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _split(self) -> tuple[str, str] | None:
                instance, sep, rest = self.path.lstrip("/").partition("/latest/")
                return (instance, rest) if sep else None

            def do_PUT(self) -> None:
                parts = self._split()
                if parts is None or parts[1] != "api/token":
                    self._reply(HTTPStatus.NOT_FOUND)
                    return
                if not self.headers.get(_TTL_HEADER, "").isdigit():
                    self._reply(HTTPStatus.BAD_REQUEST, "missing token TTL")
                    return
                token = secrets.token_urlsafe(24)
                with metadata._lock:
                    metadata._tokens.add(token)
                self._reply(HTTPStatus.OK, token)

            def do_GET(self) -> None:
                parts = self._split()
                with metadata._lock:
                    authorised = self.headers.get(_TOKEN_HEADER) in metadata._tokens
                    value = metadata._paths.get(parts[0], {}).get(parts[1]) if parts else None
                if not authorised:  # IMDSv2 only, as the launch template requires
                    self._reply(HTTPStatus.UNAUTHORIZED)
                elif value is None:
                    self._reply(HTTPStatus.NOT_FOUND)
                else:
                    self._reply(HTTPStatus.OK, value)

        return Handler
