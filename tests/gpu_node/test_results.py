"""Result objects in moto's S3: layout, idempotence, wholeness."""

from __future__ import annotations

from datetime import UTC, datetime

from gpu_node.results import ResultRecord, ResultStore, Timings
from tests.gpu_node.aws_env import Fleet

AT = datetime(2026, 11, 22, 11, 0, tzinfo=UTC)


def _record(job_id: str) -> ResultRecord:
    return ResultRecord(
        job_id=job_id,
        node="i-1",
        instance_type="g5.xlarge",
        pool="us-east-1/us-east-1a/g5.xlarge",
        fleet="f",
        model="m",
        seed=3,
        width=32,
        height=32,
        steps=2,
        guidance=None,
        prompt="p",
        negative_prompt=None,
        attempts=1,
        timings=Timings(started_at=AT, finished_at=AT, generate_seconds=0.5, total_seconds=0.6),
    )


def _object(fleet: Fleet, key: str) -> tuple[bytes, str]:
    reply = fleet.clients.s3.get_object(Bucket=fleet.bucket, Key=key)
    return reply["Body"].read(), reply["ETag"]


def test_writing_a_result_twice_leaves_the_same_objects(fleet: Fleet) -> None:
    store = ResultStore(s3=fleet.clients.s3, bucket=fleet.bucket)
    store.store(_record("twice"), b"\x89PNG fake")
    first = (_object(fleet, "results/twice.png"), _object(fleet, "results/twice.json"))
    store.store(_record("twice"), b"\x89PNG fake")
    second = (_object(fleet, "results/twice.png"), _object(fleet, "results/twice.json"))
    assert first == second
    assert fleet.result_keys() == {"results/twice.png", "results/twice.json"}


def test_a_result_is_whole_only_when_both_objects_exist(fleet: Fleet) -> None:
    store = ResultStore(s3=fleet.clients.s3, bucket=fleet.bucket)
    assert not store.exists("half")
    fleet.clients.s3.put_object(Bucket=fleet.bucket, Key="results/half.json", Body=b"{}")
    assert not store.exists("half")
    fleet.clients.s3.put_object(Bucket=fleet.bucket, Key="results/half.png", Body=b"png")
    assert store.exists("half")
