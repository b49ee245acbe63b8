"""The lease table in moto, and DynamoDB throttling in front of it.

``create_lease_table`` makes the table as ``stacks/lease_table.py`` declares it (hash key
``lease_name``, on demand, TTL on ``purge_at``). ``ThrottlingProxy`` is a real HTTP server
between a client and moto's server: it answers the next N ``PutItem`` requests as DynamoDB
does when throttling, and forwards everything else untouched. The error bodies are the ones
AWS documents for DynamoDB's low-level API ("Error handling with DynamoDB", Amazon DynamoDB
Developer Guide, docs.aws.amazon.com/amazondynamodb/latest/developerguide/
Programming.Errors.html: HTTP 400, ``application/x-amz-json-1.0``, a ``__type`` of
``com.amazonaws.dynamodb.v20120810#<Code>`` and a ``message``).
"""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlparse

import boto3
from botocore.config import Config

from reconciler.daemon.lease_record import KEY, PURGE_AT

from .conftest import REGION

# As documented (the message texts are the Developer Guide's, for each code).
THROTTLED = (
    {
        "__type": "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
        "message": "The level of configured provisioned throughput for the table was exceeded. "
        "Consider increasing your provisioning level with the UpdateTable API.",
    },
    {
        "__type": "com.amazon.coral.availability#ThrottlingException",
        "message": "Rate of requests exceeds the allowed throughput.",
    },
)


def create_lease_table(dynamodb: Any, name: str) -> None:
    dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": KEY, "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": KEY, "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.update_time_to_live(
        TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": PURGE_AT}
    )


def dynamodb_client(endpoint: str) -> Any:
    """Like the daemon's lease client: no retries of botocore's own."""
    config = Config(retries={"mode": "standard", "total_max_attempts": 1})
    return boto3.client("dynamodb", region_name=REGION, endpoint_url=endpoint, config=config)


class ThrottlingProxy:
    def __init__(self, upstream: str) -> None:
        self.upstream = urlparse(upstream)
        self.throttle_next = 0  # PutItem requests still to throttle
        self.throttled = 0  # answered throttled so far
        self.forwarded: list[str] = []  # X-Amz-Target of each request passed on
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                target = self.headers.get("X-Amz-Target", "")
                with proxy._lock:
                    throttle = target.endswith(".PutItem") and proxy.throttle_next > 0
                    if throttle:
                        proxy.throttle_next -= 1
                        error = THROTTLED[proxy.throttled % len(THROTTLED)]
                        proxy.throttled += 1
                    else:
                        proxy.forwarded.append(target)
                if throttle:
                    self._answer(400, json.dumps(error).encode(), {})
                    return
                conn = http.client.HTTPConnection(
                    str(proxy.upstream.hostname), proxy.upstream.port, timeout=30
                )
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                conn.request("POST", self.path, body=body, headers=headers)
                reply = conn.getresponse()
                data = reply.read()
                kept = {
                    k: v
                    for k, v in reply.getheaders()
                    if k.lower() not in {"content-length", "transfer-encoding", "connection"}
                }
                conn.close()
                self._answer(reply.status, data, kept)

            def _answer(self, status: int, data: bytes, headers: dict[str, str]) -> None:
                self.send_response(status)
                headers.setdefault("Content-Type", "application/x-amz-json-1.0")
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def throttle(self, requests: int) -> None:
        with self._lock:
            self.throttle_next = requests


@contextmanager
def throttling_proxy(upstream: str) -> Iterator[ThrottlingProxy]:
    proxy = ThrottlingProxy(upstream)
    thread = threading.Thread(target=proxy.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield proxy
    finally:
        proxy.server.shutdown()
        proxy.server.server_close()
