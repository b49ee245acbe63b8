from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from moto.server import ThreadedMotoServer

from analytics.store import History, open_history


@pytest.fixture
def history(tmp_path: Path) -> Iterator[History]:
    with open_history(tmp_path / "history.duckdb") as opened:
        yield opened


def count(history: History, table: str) -> int:
    return int(history.con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0])


def write_trace(folder: Path, stem: str, data: list[object], gap: object = 60) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{stem}.json"
    path.write_text(json.dumps({"metadata": {"gap_seconds": gap}, "data": data}))
    return path


@dataclass(frozen=True)
class S3:
    """A clean bucket in moto's S3, reached over HTTP through AWS_ENDPOINT_URL, as the export
    (pyarrow's S3 filesystem) and the daemon reach S3."""

    endpoint: str
    bucket: str
    client: Any

    def keys(self, prefix: str = "") -> list[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=prefix
        )
        return sorted(o["Key"] for page in pages for o in page.get("Contents", []))

    def read(self, key: str) -> bytes:
        return bytes(self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def moto_s3_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=_free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3(moto_s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> S3:
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_s3_endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    requests.post(f"{moto_s3_endpoint}/moto-api/reset", timeout=10)
    client = boto3.client("s3", region_name="us-east-1")
    client.create_bucket(Bucket="spotfleet-history")
    return S3(moto_s3_endpoint, "spotfleet-history", client)
