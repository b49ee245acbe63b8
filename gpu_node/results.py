"""Results in S3: ``results/<job_id>.png`` and ``results/<job_id>.json`` beside it.

The JSON is written after the PNG, so its presence means the result is whole. The same
record gives the same bytes (sorted keys, no wall-clock fields added here), so writing a
result twice leaves the same objects.
"""

from __future__ import annotations

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

    @staticmethod
    def png_key(job_id: str) -> str:
        return f"{RESULTS_PREFIX}{job_id}.png"

    @staticmethod
    def json_key(job_id: str) -> str:
        return f"{RESULTS_PREFIX}{job_id}.json"

    def exists(self, job_id: str) -> bool:
        """True when the job's result is whole (its JSON, written last, is there)."""
        try:
            self._s3.head_object(Bucket=self._bucket, Key=self.json_key(job_id))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise ResultStoreError(f"S3 head {self.json_key(job_id)}: {exc}") from exc
        except BotoCoreError as exc:
            raise ResultStoreError(f"S3 head {self.json_key(job_id)}: {exc}") from exc
        return True

    def store(self, record: ResultRecord, png: bytes) -> None:
        self._put(self.png_key(record.job_id), png, "image/png")
        body = record.model_dump_json(indent=2).encode()
        # model_dump_json keeps field order, which is fixed by the model: stable bytes.
        self._put(self.json_key(record.job_id), body, "application/json")

    def _put(self, key: str, body: bytes, content_type: str) -> None:
        try:
            self._s3.put_object(Bucket=self._bucket, Key=key, Body=body, ContentType=content_type)
        except (BotoCoreError, ClientError) as exc:
            raise ResultStoreError(f"S3 put {key}: {exc}") from exc
