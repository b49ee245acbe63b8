from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx

from reconciler.embedded.imds import LocalMetadata


def token(base: str) -> str:
    response = httpx.put(
        f"{base}/latest/api/token", headers={"X-aws-ec2-metadata-token-ttl-seconds": "300"}
    )
    assert response.status_code == 200
    return response.text


def get(base: str, path: str, tok: str | None) -> httpx.Response:
    headers = {"X-aws-ec2-metadata-token": tok} if tok else {}
    return httpx.get(f"{base}/latest/{path}", headers=headers)


def test_each_instance_sees_its_own_identity_and_only_with_a_token() -> None:
    with LocalMetadata() as imds:
        a = imds.add("i-a", instance_type="g5.xlarge", zone="us-east-1a")
        b = imds.add("i-b", instance_type="g5.2xlarge", zone="us-west-2c")
        assert get(a, "meta-data/instance-id", None).status_code == 401  # IMDSv1 is refused
        tok = token(a)
        assert get(a, "meta-data/instance-id", tok).text == "i-a"
        assert get(b, "meta-data/instance-type", tok).text == "g5.2xlarge"
        assert get(b, "meta-data/placement/region", tok).text == "us-west-2"
        assert httpx.put(f"{a}/latest/api/token").status_code == 400  # the TTL header is required


def test_notices_appear_where_ec2_writes_them() -> None:
    with LocalMetadata() as imds:
        base = imds.add("i-a", instance_type="g5.xlarge", zone="us-east-1a")
        tok = token(base)
        assert get(base, "meta-data/spot/instance-action", tok).status_code == 404  # no notice yet
        imds.notify_spot_interruption("i-a", datetime(2026, 11, 22, 12, 2, tzinfo=UTC))
        action = json.loads(get(base, "meta-data/spot/instance-action", tok).text)
        assert action == {"action": "terminate", "time": "2026-11-22T12:02:00Z"}
        imds.recommend_rebalance("i-a", datetime(2026, 11, 22, 12, 0, tzinfo=UTC))
        assert "noticeTime" in get(base, "meta-data/events/recommendations/rebalance", tok).text
        assert get(base, "meta-data/autoscaling/target-lifecycle-state", tok).text == "InService"
        imds.set_target_lifecycle_state("i-a", "Terminated")
        assert get(base, "meta-data/autoscaling/target-lifecycle-state", tok).text == "Terminated"
        imds.remove("i-a")
        assert get(base, "meta-data/instance-id", tok).status_code == 404
