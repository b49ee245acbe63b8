"""EC2 scheduled events as notices, on the real payloads in ``payloads/`` (sources in its README),
and through the watcher against a real local IMDSv2 server."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from analytics.kinds import Kind
from gpu_node.imds import ImdsClient
from gpu_node.maintenance import is_due, parse_scheduled_events, scheduled_maintenance
from gpu_node.notices import InterruptionNotice
from gpu_node.watcher import ImdsWatcher
from tests.gpu_node.aws_env import Fleet, job
from tests.gpu_node.conftest import Spawn
from tests.gpu_node.harness import wait_for
from tests.gpu_node.imds_server import FakeImds

PAYLOADS = Path(__file__).parent / "payloads"
PATH = "meta-data/events/maintenance/scheduled"


def payload(name: str) -> str:
    return (PAYLOADS / name).read_text()


def imds_time(moment: datetime) -> str:
    """IMDS's own layout, the day not zero-padded: ``1 Jan 2020 01:03:47 GMT``."""
    return f"{moment.day} {moment.strftime('%b %Y %H:%M:%S')} GMT"


def moved(name: str, not_before: datetime) -> str:
    """A real payload with only its NotBefore moved (tests that need a time near now)."""
    text = payload(name)
    for old in ("21 Jan 2019 09:00:43 GMT", "1 Jan 2020 01:03:47 GMT"):
        text = text.replace(old, imds_time(not_before))
    return text


def test_the_ec2_user_guide_reboot_is_a_notice_whose_deadline_is_its_start() -> None:
    now = datetime(2019, 1, 21, 8, 59, tzinfo=UTC)
    notice = scheduled_maintenance(payload("ec2-user-guide-system-reboot.json"), now)
    assert notice is not None
    assert notice.kind is Kind.SCHEDULED_CHANGE
    assert notice.drains
    assert notice.deadline == datetime(2019, 1, 21, 9, 0, 43, tzinfo=UTC)
    assert "system-reboot" in notice.detail
    assert "instance-event-0d59937288b749b32" in notice.detail


def test_amazon_ec2_metadata_mocks_active_stop_is_a_notice() -> None:
    now = datetime(2020, 1, 1, tzinfo=UTC)
    notice = scheduled_maintenance(payload("aemm-served-instance-stop-active.json"), now)
    assert notice is not None
    assert notice.deadline == datetime(2020, 1, 1, 1, 3, 47, tzinfo=UTC)
    assert "instance-stop" in notice.detail


@pytest.mark.parametrize(
    "name",
    ["aemm-readme-instance-reboot-completed.json", "aemm-served-instance-stop-canceled.json"],
)
def test_completed_and_canceled_events_are_history_not_notices(name: str) -> None:
    assert scheduled_maintenance(payload(name), datetime(2020, 1, 1, tzinfo=UTC)) is None


def test_amazon_ec2_metadata_mocks_readme_object_is_read_like_the_list() -> None:
    [event] = parse_scheduled_events(payload("aemm-readme-instance-reboot-completed.json")) or []
    assert (event.code, event.state, event.event_id) == (
        "instance-reboot",
        "completed",
        "instance-event-1234567890abcdef0",
    )
    assert event.not_before == datetime(2020, 1, 1, 1, 3, 47, tzinfo=UTC)


def test_an_empty_list_is_no_notice_and_an_unreadable_payload_still_drains() -> None:
    now = datetime(2020, 1, 1, tzinfo=UTC)
    assert scheduled_maintenance("[]", now) is None
    notice = scheduled_maintenance("<html>garbage</html>", now)
    assert notice is not None and notice.deadline is None and notice.drains


def test_the_same_event_seen_twice_has_one_id_and_a_rescheduled_one_a_new_one() -> None:
    now = datetime(2019, 1, 1, tzinfo=UTC)
    first = scheduled_maintenance(payload("ec2-user-guide-system-reboot.json"), now)
    again = scheduled_maintenance(payload("ec2-user-guide-system-reboot.json"), now)
    later = scheduled_maintenance(
        moved("ec2-user-guide-system-reboot.json", datetime(2019, 1, 25, tzinfo=UTC)), now
    )
    assert first and again and later
    assert first.id == again.id != later.id


def test_a_scheduled_event_is_due_only_within_its_lead_and_other_notices_at_once() -> None:
    start = datetime(2019, 1, 21, 9, 0, 43, tzinfo=UTC)
    notice = scheduled_maintenance(payload("ec2-user-guide-system-reboot.json"), start)
    assert notice is not None
    assert not is_due(notice, start - timedelta(seconds=601), lead_seconds=600)
    assert is_due(notice, start - timedelta(seconds=600), lead_seconds=600)
    assert is_due(notice, start + timedelta(hours=1), lead_seconds=600)  # late: drain now
    spot = InterruptionNotice(
        kind=Kind.SPOT_INTERRUPTION_WARNING,
        id="x",
        observed_at=start,
        deadline=start + timedelta(hours=1),
        detail="spot",
    )
    assert is_due(spot, start, lead_seconds=600)


def test_the_watcher_holds_a_scheduled_event_until_its_lead_then_hands_it_on_once(
    imds: FakeImds,
) -> None:
    start = datetime(2030, 5, 4, 12, 0, 0, tzinfo=UTC)
    clock = [start - timedelta(days=3)]
    seen: list[InterruptionNotice] = []
    watcher = ImdsWatcher(
        imds=ImdsClient(base_url=imds.url),
        interval=1.0,
        emit=seen.append,
        maintenance_lead_seconds=600,
        now=lambda: clock[0],
    )
    imds.set(PATH, moved("aemm-served-instance-stop-active.json", start))
    watcher.poll_once()
    assert seen == []  # three days ahead: known, not drained for yet
    clock[0] = start - timedelta(seconds=599)
    watcher.poll_once()
    watcher.poll_once()
    assert [n.kind for n in seen] == [Kind.SCHEDULED_CHANGE]
    assert seen[0].deadline == start
    assert ("GET", f"/latest/{PATH}", True) in imds.requests


@pytest.mark.slow
def test_a_node_process_drains_for_a_scheduled_stop_within_its_lead_and_exits_before_it(
    fleet: Fleet, imds: FakeImds, spawn: Spawn
) -> None:
    node = spawn(
        fleet.settings_env(
            SPOTFLEET_IMDS_URL=imds.url,
            SPOTFLEET_INSTANCE_ID="i-maintained",
            SPOTFLEET_MAINTENANCE_LEAD_SECONDS="5",
            FAKE_STEP_SECONDS="0.3",
        ),
        "maintained",
    )
    fleet.send(job("before-the-event"))
    wait_for(lambda: "results/before-the-event.json" in fleet.result_keys(), timeout=30)
    start = (datetime.now(UTC) + timedelta(seconds=11)).replace(microsecond=0)
    imds.set(PATH, moved("aemm-served-instance-stop-active.json", start))
    fleet.send(job("cut-short", steps=100))  # 30 s of work: taken, then given back
    assert node.wait(timeout=30) == 0, node.log()
    exited = datetime.now(UTC)

    lead_began = start - timedelta(seconds=5)
    assert lead_began - timedelta(seconds=1) <= exited < start, (lead_began, exited, start)

    def cut_short_events() -> set[str]:
        types = {e["type"] for e in fleet.events() if e["job_id"] == "cut-short"}
        return types if "released" in types else set()

    assert wait_for(cut_short_events, timeout=5) - {"progress"} == {"started", "released"}
    back = wait_for(lambda: fleet.drain_queue(fleet.queue_url), timeout=5)
    assert [json.loads(m["Body"])["job_id"] for m in back] == ["cut-short"]
    log = node.log()
    assert "scheduled event instance-stop instance-event-1234567890abcdef0" in log
    assert "draining from 5 s before it" in log
    assert "drained; exiting" in log
