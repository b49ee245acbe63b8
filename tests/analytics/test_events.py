from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from analytics.events import EventParseError, parse_envelope, unparseable_event
from analytics.ingest.events import ingest_events, record_events
from analytics.kinds import Kind
from analytics.store import History


def envelope(detail_type: str, detail: dict, source: str = "aws.ec2", **extra) -> dict:
    return {
        "version": "0",
        "id": "e-1",
        "detail-type": detail_type,
        "source": source,
        "account": "123456789012",
        "time": "2026-11-22T10:00:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail": detail,
        **extra,
    }


@pytest.mark.parametrize(
    ("detail_type", "detail", "kind", "parsed_detail"),
    [
        (
            "EC2 Spot Instance Interruption Warning",
            {"instance-id": "i-1", "instance-action": "terminate"},
            Kind.SPOT_INTERRUPTION_WARNING,
            "terminate",
        ),
        (
            "EC2 Instance Rebalance Recommendation",
            {"instance-id": "i-1"},
            Kind.REBALANCE_RECOMMENDATION,
            None,
        ),
        (
            "EC2 Instance State-change Notification",
            {"instance-id": "i-1", "state": "shutting-down"},
            Kind.INSTANCE_STATE_CHANGE,
            "shutting-down",
        ),
    ],
)
def test_each_ec2_kind_parses_to_one_event(detail_type, detail, kind, parsed_detail) -> None:
    raw = json.dumps(envelope(detail_type, detail))
    [event] = parse_envelope(raw)
    assert (event.kind, event.instance_id, event.detail, event.region) == (
        kind,
        "i-1",
        parsed_detail,
        "us-east-1",
    )
    assert event.ts == datetime(2026, 11, 22, 10, 0)
    assert event.raw == raw


def test_a_health_event_gives_one_event_per_affected_instance() -> None:
    events = parse_envelope(
        envelope(
            "AWS Health Event",
            {
                "eventTypeCode": "AWS_EC2_INSTANCE_RETIREMENT_SCHEDULED",
                "affectedEntities": [{"entityValue": "i-1"}, {"entityValue": "i-2"}],
            },
            source="aws.health",
        )
    )
    assert [(e.event_id, e.instance_id, e.kind) for e in events] == [
        ("e-1:i-1", "i-1", Kind.HEALTH),
        ("e-1:i-2", "i-2", Kind.HEALTH),
    ]


def test_unknown_kinds_are_a_no_op_and_an_id_less_message_gets_a_stable_one() -> None:
    assert parse_envelope(envelope("EC2 AMI State Change", {"ImageId": "ami-1"})) == []
    bare = envelope("EC2 Instance Rebalance Recommendation", {"instance-id": "i-9"})
    del bare["id"]
    first, second = parse_envelope(json.dumps(bare)), parse_envelope(json.dumps(bare))
    assert first[0].event_id == second[0].event_id
    assert first[0].event_id.startswith("sha256-")


@pytest.mark.parametrize(
    ("message", "problem"),
    [
        ("{not json", "not JSON"),
        ("[1, 2]", "not a JSON object"),
        (json.dumps({"hello": "world"}), "needs 'source' and 'detail-type'"),
        (
            json.dumps(envelope("EC2 Spot Instance Interruption Warning", {})),
            "no detail.instance-id",
        ),
        (
            json.dumps(
                envelope(
                    "EC2 Spot Instance Interruption Warning", {"instance-id": "i"}, time="soon"
                )
            ),
            "not an ISO 8601",
        ),
    ],
)
def test_unparseable_messages_raise_with_the_reason(message: str, problem: str) -> None:
    with pytest.raises(EventParseError, match=problem):
        parse_envelope(message)


def test_recorded_events_take_their_pool_from_the_nodes_table_and_are_kept_once(
    history: History,
) -> None:
    history.con.execute(
        "INSERT INTO nodes (instance_id, pool, lifecycle, state, observed_at) "
        "VALUES ('i-1', 'us-east-1/us-east-1a/g5.xlarge', 'spot', 'running', TIMESTAMP '2026-11-22 09:00')"
    )
    events = parse_envelope(
        envelope(
            "EC2 Spot Instance Interruption Warning",
            {"instance-id": "i-1", "instance-action": "terminate"},
        )
    )
    garbage = unparseable_event("{oops", "not JSON", datetime(2026, 11, 22, 10, 1))
    assert record_events(history, [*events, garbage]) == 2
    assert record_events(history, [*events, garbage]) == 0
    rows = history.con.execute(
        "SELECT kind, pool, raw, detail FROM interruption_events ORDER BY kind"
    ).fetchall()
    assert rows == [
        ("spot_interruption_warning", "us-east-1/us-east-1a/g5.xlarge", events[0].raw, "terminate"),
        ("unparseable", None, "{oops", "not JSON"),
    ]


def test_event_files_in_every_shape_and_a_bad_line_is_kept_raw(
    history: History, tmp_path: Path
) -> None:
    good = envelope("EC2 Instance Rebalance Recommendation", {"instance-id": "i-1"})
    unknown = envelope("Something Else", {}, id="e-2")
    listed = tmp_path / "events.json"
    listed.write_text(json.dumps([good, unknown]))
    result = ingest_events(history, listed)
    assert (result.rows_read, result.skipped, result.inserted) == (2, 1, {"interruption_events": 1})
    assert ingest_events(history, listed).rows_inserted == 0
    lines = tmp_path / "events.jsonl"
    lines.write_text(json.dumps({**good, "id": "e-3"}) + "\n" + '{"source": "aws.ec2"}\n' + "{cut")
    result = ingest_events(history, lines)
    assert result.problems == (
        "line 2: not an EventBridge envelope: needs 'source' and 'detail-type'",
        "line 3: not JSON (Expecting property name enclosed in double quotes at position 1)",
    )
    assert result.inserted == {"interruption_events": 3}
    kept = history.con.execute(
        "SELECT kind, raw, detail FROM interruption_events WHERE event_id <> 'e-1' ORDER BY kind, raw"
    ).fetchall()
    assert [(k, r) for k, r, _ in kept] == [
        ("rebalance_recommendation", json.dumps({**good, "id": "e-3"})),
        ("unparseable", '{"source": "aws.ec2"}'),
        ("unparseable", "{cut"),
    ]
    assert kept[2][2].startswith(f"{lines}, line 3: not JSON")
    assert ingest_events(history, lines).rows_inserted == 0  # kept once, by content
