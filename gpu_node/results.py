"""Results in S3: ``results/<job_id>.png`` and ``results/<job_id>.json`` beside it.

The two objects are written at once (two requests in parallel: half the wait of writing them
one after the other), so a result is whole only when both are there, and ``exists`` checks
both. The same record gives the same bytes (fixed field order, no wall-clock fields added
here), so writing a result twice leaves the same objects.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel, ConfigDict

from gpu_node.errors import ResultStoreError

__all__ = ["RESULTS_PREFIX", "ResultRecord", "ResultStore", "Timings"]

RESULTS_PREFIX = "results/"


class Timings(BaseModel):
    model_config = ConfigDict(frozen=True)

    submitted_at: datetime | None = None
    queued_at: datetime | None = None  # when SQS accepted the message
    started_at: datetime
    finished_at: datetime
    queue_wait_seconds: float | None = None
    generate_seconds: float
    total_seconds: float  # started -> result ready to store, on this node


class ResultRecord(BaseModel):
    """What ``results/<job_id>.json`` holds."""

    model_config = ConfigDict(frozen=True)

    job_id: str
    node: str  # the instance id
    instance_type: str
    pool: str
    fleet: str | None
    model: str
    seed: int
    width: int
    height: int
    steps: int
    guidance: float | None
    prompt: str
    negative_prompt: str | None
    attempts: int
    timings: Timings


class ResultStore:
    def __init__(self, *, s3: Any, bucket: str) -> None:
        self._s3 = s3
        self._bucket = bucket
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="result-put")

    @staticmethod
    def png_key(job_id: str) -> str:
        return f"{RESULTS_PREFIX}{job_id}.png"

    @staticmethod
    def json_key(job_id: str) -> str:
        return f"{RESULTS_PREFIX}{job_id}.json"

    def exists(self, job_id: str) -> bool:
        """True when the job's result is whole: both objects are there."""
        return self._has(self.json_key(job_id)) and self._has(self.png_key(job_id))

    def _has(self, key: str) -> bool:
        try:
            self._s3.head_object(Bucket=self._bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise ResultStoreError(f"S3 head {key}: {exc}") from exc
        except BotoCoreError as exc:
            raise ResultStoreError(f"S3 head {key}: {exc}") from exc
        return True

    def store(self, record: ResultRecord, png: bytes) -> None:
        body = record.model_dump_json(indent=2).encode()
        writes = [
            self._pool.submit(self._put, self.png_key(record.job_id), png, "image/png"),
            self._pool.submit(self._put, self.json_key(record.job_id), body, "application/json"),
        ]
        for write in writes:
            write.result()  # re-raises ResultStoreError; the message then stays for a retry

    def _put(self, key: str, body: bytes, content_type: str) -> None:
        try:
            self._s3.put_object(Bucket=self._bucket, Key=key, Body=body, ContentType=content_type)
        except (BotoCoreError, ClientError) as exc:
            raise ResultStoreError(f"S3 put {key}: {exc}") from exc
