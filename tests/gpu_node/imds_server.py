"""A real local IMDSv2: PUT a token, then GET paths with it. Tests set what it serves."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class FakeImds:
    TOKEN = "test-token-1"

    def __init__(self) -> None:
        self.paths: dict[str, str] = {}
        self.requests: list[tuple[str, str, bool]] = []  # (method, path, had a valid token)
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_PUT(self) -> None:
                fake._record("PUT", self.path, True)
                if self.path != "/latest/api/token" or not self.headers.get(
                    "X-aws-ec2-metadata-token-ttl-seconds"
                ):
                    self._reply(400, "bad token request")
                    return
                self._reply(200, fake.TOKEN)

            def do_GET(self) -> None:
                valid = self.headers.get("X-aws-ec2-metadata-token") == fake.TOKEN
                fake._record("GET", self.path, valid)
                if not valid:
                    self._reply(401, "")
                    return
                with fake._lock:
                    body = fake.paths.get(self.path.removeprefix("/latest/"))
                if body is None:
                    self._reply(404, "Not Found")
                else:
                    self._reply(200, body)

            def _reply(self, status: int, body: str) -> None:
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def _record(self, method: str, path: str, valid: bool) -> None:
        with self._lock:
            self.requests.append((method, path, valid))

    def set(self, path: str, body: str) -> None:
        with self._lock:
            self.paths[path] = body

    def start(self) -> FakeImds:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
