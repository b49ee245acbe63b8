"""AWS's own event payloads through the one parser (sources: tests/fixtures/README.md)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from analytics.events import parse_envelope
from analytics.kinds import Kind
from tests.fixtures import payload


def test_the_spot_warning_has_its_two_minute_deadline() -> None:
    [event] = parse_envelope(payload("events/spot-interruption-warning.json"))
    assert (event.kind, event.instance_id, event.detail) == (
        Kind.SPOT_INTERRUPTION_WARNING,
        "i-0b662ef9931388ba0",
        "terminate",
    )
    assert event.ts == datetime(1970, 1, 1)
    assert event.deadline == datetime(1970, 1, 1) + timedelta(minutes=2)


def test_a_health_scheduled_change_has_its_start_time_as_the_deadline() -> None:
    [event] = parse_envelope(payload("events/health-scheduled-change.json"))
    assert (event.kind, event.instance_id, event.detail) == (
        Kind.SCHEDULED_CHANGE,
        "i-12345678",
        "AWS_EC2_DEDICATED_HOST_NETWORK_MAINTENANCE_SCHEDULED",
    )
    assert event.deadline == datetime(2016, 6, 5, 15, 10, 9)


def test_a_health_event_that_is_no_scheduled_ec2_change_is_kept_as_plain_health() -> None:
    envelope = json.loads(payload("events/health-scheduled-change.json"))
    envelope["detail"]["eventTypeCategory"] = "issue"
    [event] = parse_envelope(envelope)
    assert event.kind is Kind.HEALTH


def test_a_capacity_reservation_warning_is_parsed_with_its_termination_time() -> None:
    [event] = parse_envelope(payload("events/capacity-reservation-interruption-warning.json"))
    assert (event.kind, event.instance_id, event.detail) == (
        Kind.CAPACITY_RESERVATION_INTERRUPTION_WARNING,
        "i-1234567890abcdef0",
        "terminate",
    )
    assert event.deadline == datetime(2025, 11, 5, 12, 2)


@pytest.mark.parametrize("state", ["stopping", "stopped", "shutting-down", "terminated", "pending"])
def test_a_state_change_keeps_its_state_and_happens_at_once(state: str) -> None:
    envelope = json.loads(payload("events/state-change-pending.json"))
    envelope["detail"]["state"] = state
    [event] = parse_envelope(envelope)
    assert (event.kind, event.instance_id, event.detail) == (
        Kind.INSTANCE_STATE_CHANGE,
        "i-abcd1111",
        state,
    )
    assert event.deadline == datetime(2015, 11, 11, 21, 29, 54)


def test_a_rebalance_recommendation_has_no_deadline() -> None:
    [event] = parse_envelope(payload("events/rebalance-recommendation.json"))
    assert (event.kind, event.deadline) == (Kind.REBALANCE_RECOMMENDATION, None)


def test_an_sns_wrapped_envelope_is_unwrapped() -> None:
    raw = payload("events/sns-wrapped-spot-interruption-warning.json")
    [event] = parse_envelope(raw)
    [direct] = parse_envelope(payload("events/spot-interruption-warning.json"))
    assert (event.kind, event.event_id, event.instance_id, event.deadline) == (
        direct.kind,
        direct.event_id,
        direct.instance_id,
        direct.deadline,
    )
    assert event.raw == raw  # kept as received
