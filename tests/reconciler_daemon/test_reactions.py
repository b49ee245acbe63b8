from __future__ import annotations

from datetime import timedelta

from analytics.events import InterruptionEvent, Kind
from reconciler.daemon.reactions import marks_in_force, react
from reconciler.daemon.settings import SafetySettings

from .conftest import T0

S = SafetySettings(risky_mark_s=1800, warning_loss=0.95, rebalance_loss=0.4)
POOL = "us-east-1/us-east-1a/g5.xlarge"


def event(kind: Kind, pool: str | None = POOL) -> InterruptionEvent:
    return InterruptionEvent(
        "e1", kind, T0.replace(tzinfo=None), "aws.ec2", "{}", instance_id="i-1", pool=pool
    )


def test_a_warning_asks_for_a_replacement_now_and_a_rebalance_does_not() -> None:
    warning = react(event(Kind.SPOT_INTERRUPTION_WARNING))
    rebalance = react(event(Kind.REBALANCE_RECOMMENDATION))
    assert warning is not None and warning.replace_now
    assert rebalance is not None and not rebalance.replace_now


def test_events_without_a_pool_or_of_other_kinds_cause_nothing() -> None:
    assert react(event(Kind.SPOT_INTERRUPTION_WARNING, pool=None)) is None
    assert react(event(Kind.INSTANCE_STATE_CHANGE)) is None


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
