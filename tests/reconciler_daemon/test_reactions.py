from __future__ import annotations

import dataclasses
import json
from datetime import datetime, timedelta

import pytest

from analytics.events import InterruptionEvent, parse_envelope
from analytics.kinds import Kind
from reconciler.core.reactions import STALE_AFTER, act_by, marks_in_force, react
from reconciler.core.settings import SafetySettings
from tests.fixtures import payload

from .conftest import T0

S = SafetySettings(risky_mark_s=1800, warning_loss=0.95, rebalance_loss=0.4)
POOL = "us-east-1/us-east-1a/g5.xlarge"
NOW = T0.replace(tzinfo=None)


def event(kind: Kind, pool: str | None = POOL, **fields: object) -> InterruptionEvent:
    base = InterruptionEvent("e1", kind, NOW, "aws.ec2", "{}", instance_id="i-1", pool=pool)
    return dataclasses.replace(base, **fields)  # type: ignore[arg-type]


def aws_event(name: str, *, received: timedelta = timedelta(seconds=5), **detail: str):
    """A real payload (tests/fixtures/README.md), as if it arrived ``received`` after its time."""
    envelope = json.loads(payload(f"events/{name}.json"))
    envelope["detail"].update(detail)
    [parsed] = parse_envelope(envelope)
    return dataclasses.replace(parsed, pool=POOL), parsed.ts + received


def test_a_warning_asks_for_a_replacement_and_a_drain_by_its_deadline() -> None:
    warning, now = aws_event("spot-interruption-warning")
    reaction = react(warning, now=now)
    assert reaction is not None
    assert (reaction.replace_now, reaction.drain, reaction.deadline) == (
        True,
        True,
        warning.ts + timedelta(minutes=2),
    )
    rebalance, now = aws_event("rebalance-recommendation")
    advice = react(rebalance, now=now)
    assert advice is not None and not advice.replace_now and not advice.drain


@pytest.mark.parametrize(
    ("name", "detail"),
    [
        ("health-scheduled-change", {}),
        ("state-change-pending", {"state": "stopping"}),
        ("state-change-pending", {"state": "stopped"}),
        ("state-change-pending", {"state": "shutting-down"}),
        ("state-change-pending", {"state": "terminated"}),
        ("capacity-reservation-interruption-warning", {}),
    ],
)
def test_every_kind_of_lost_instance_reacts_as_a_spot_warning_does(name: str, detail) -> None:
    news, now = aws_event(name, **detail)
    reaction = react(news, now=now)
    assert reaction is not None, f"{name} {detail} caused nothing"
    assert (reaction.pool, reaction.instance_id, reaction.replace_now, reaction.drain) == (
        POOL,
        news.instance_id,
        True,
        True,
    )
    assert reaction.deadline is not None


def test_a_scheduled_change_drains_by_its_start_time() -> None:
    change, _ = aws_event("health-scheduled-change")
    reaction = react(change, now=datetime(2016, 6, 5, 7, 0))
    assert reaction is not None and reaction.deadline == datetime(2016, 6, 5, 15, 10, 9)


def test_a_state_change_to_running_or_from_the_groups_own_scale_in_causes_nothing() -> None:
    pending, now = aws_event("state-change-pending")
    assert react(pending, now=now) is None
    terminated, now = aws_event("state-change-pending", state="terminated")
    assert react(terminated, now=now, node_state="Terminating:Wait") is None


@pytest.mark.parametrize(
    ("name", "detail", "deadline"),
    [
        ("spot-interruption-warning", {}, timedelta(minutes=2)),
        ("capacity-reservation-interruption-warning", {}, timedelta(minutes=2)),
        ("state-change-pending", {"state": "stopped"}, STALE_AFTER),
        ("rebalance-recommendation", {}, STALE_AFTER),
    ],
)
def test_an_event_older_than_its_deadline_causes_nothing(name: str, detail, deadline) -> None:
    news, _ = aws_event(name, **detail)
    assert act_by(news) == news.ts + deadline
    assert react(news, now=news.ts + deadline - timedelta(seconds=1)) is not None
    assert react(news, now=news.ts + deadline) is None


def test_the_1970_spot_warning_as_published_is_stale() -> None:
    [warning] = parse_envelope(payload("events/spot-interruption-warning.json"))
    assert react(dataclasses.replace(warning, pool=POOL), now=NOW) is None


def test_a_scheduled_change_past_its_start_time_is_stale() -> None:
    change, _ = aws_event("health-scheduled-change")
    assert react(change, now=datetime(2016, 6, 5, 15, 10, 9)) is None


def test_events_without_a_pool_or_of_other_kinds_cause_nothing() -> None:
    assert react(event(Kind.SPOT_INTERRUPTION_WARNING, pool=None), now=NOW) is None
    assert react(event(Kind.HEALTH), now=NOW) is None
    assert react(event(Kind.UNPARSEABLE), now=NOW) is None


def test_marks_expire_and_the_strongest_live_one_wins() -> None:
    events = [
        (POOL, "rebalance_recommendation", T0 - timedelta(seconds=100)),
        (POOL, "spot_interruption_warning", T0 - timedelta(seconds=200)),
        ("us-east-1/us-east-1b/g5.xlarge", "spot_interruption_warning", T0 - timedelta(hours=1)),
    ]
    marks = marks_in_force(events, now=T0, settings=S)
    assert set(marks) == {POOL}
    assert marks[POOL].loss == 0.95
    later = marks_in_force(events[:1], now=T0 + timedelta(seconds=1699), settings=S)
    assert later[POOL].loss == 0.4
    assert marks_in_force(events[:1], now=T0 + timedelta(seconds=1700), settings=S) == {}


def test_a_grace_lets_an_event_act_past_its_deadline_for_that_long() -> None:
    warning, _ = aws_event("spot-interruption-warning")
    late = warning.ts + timedelta(minutes=3)
    assert react(warning, now=late) is None
    assert react(warning, now=late, grace=timedelta(minutes=2)) is not None
    assert react(warning, now=late, grace=timedelta(minutes=1)) is None
