"""The interruption watcher against a real local IMDSv2 server."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from analytics.kinds import Kind
from gpu_node.errors import MetadataError
from gpu_node.imds import ImdsClient
from gpu_node.notices import InterruptionNotice
from gpu_node.watcher import ImdsWatcher
from tests.gpu_node.imds_server import FakeImds


def _watcher(imds: FakeImds) -> tuple[ImdsWatcher, list[InterruptionNotice]]:
    seen: list[InterruptionNotice] = []
    return ImdsWatcher(imds=ImdsClient(base_url=imds.url), interval=1.0, emit=seen.append), seen


def test_nothing_to_report_on_a_quiet_node(imds: FakeImds) -> None:
    watcher, seen = _watcher(imds)
    assert watcher.poll_once() == []
    assert seen == []


def test_every_read_uses_an_imdsv2_token(imds: FakeImds) -> None:
    watcher, _ = _watcher(imds)
    watcher.poll_once()
    gets = [r for r in imds.requests if r[0] == "GET"]
    assert gets
    assert all(valid for _, _, valid in gets)
    assert ("PUT", "/latest/api/token", True) in imds.requests


def test_a_spot_notice_carries_its_deadline_and_is_reported_once(imds: FakeImds) -> None:
    imds.set(
        "meta-data/spot/instance-action",
        json.dumps({"action": "terminate", "time": "2026-11-22T12:00:00Z"}),
    )
    watcher, seen = _watcher(imds)
    watcher.poll_once()
    watcher.poll_once()
    assert len(seen) == 1
    notice = seen[0]
    assert notice.kind is Kind.SPOT_INTERRUPTION_WARNING
    assert notice.deadline == datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    assert notice.drains


def test_a_rebalance_recommendation_is_reported_but_does_not_drain(imds: FakeImds) -> None:
    imds.set("meta-data/events/recommendations/rebalance", '{"noticeTime": "2026-11-22T11:50:00Z"}')
    watcher, seen = _watcher(imds)
    watcher.poll_once()
    assert [n.kind for n in seen] == [Kind.REBALANCE_RECOMMENDATION]
    assert not seen[0].drains


def test_a_rebalance_recommendations_notice_time_is_parsed(imds: FakeImds) -> None:
    # The response the EC2 User Guide documents for events/recommendations/rebalance
    # ("Rebalance recommendations", "Monitor rebalance recommendation signals").
    imds.set("meta-data/events/recommendations/rebalance", '{"noticeTime": "2020-10-27T08:22:00Z"}')
    watcher, seen = _watcher(imds)
    watcher.poll_once()
    [notice] = seen
    assert notice.issued_at == datetime(2020, 10, 27, 8, 22, tzinfo=UTC)
    assert notice.detail == "rebalance recommendation issued at 2020-10-27T08:22:00Z"


def test_an_unreadable_rebalance_recommendation_is_still_reported(imds: FakeImds) -> None:
    imds.set("meta-data/events/recommendations/rebalance", "not json")
    watcher, seen = _watcher(imds)
    watcher.poll_once()
    [notice] = seen
    assert notice.issued_at is None and notice.kind is Kind.REBALANCE_RECOMMENDATION


def test_the_group_terminating_this_node_drains_it(imds: FakeImds) -> None:
    watcher, seen = _watcher(imds)
    watcher.poll_once()
    assert seen == []  # InService
    imds.set("meta-data/autoscaling/target-lifecycle-state", "Terminated")
    watcher.poll_once()
    assert [n.kind for n in seen] == [Kind.ASG_TERMINATION]


def test_an_unreachable_metadata_service_is_an_error_not_a_notice() -> None:
    client = ImdsClient(base_url="http://127.0.0.1:9", timeout=0.5)
    with pytest.raises(MetadataError):
        client.get("meta-data/instance-id")
    seen: list[InterruptionNotice] = []
    assert ImdsWatcher(imds=client, interval=1.0, emit=seen.append).poll_once() == []


def test_polling_more_slowly_than_every_two_seconds_is_refused(imds: FakeImds) -> None:
    with pytest.raises(ValueError, match="2 seconds"):
        ImdsWatcher(imds=ImdsClient(base_url=imds.url), interval=5.0, emit=print)
