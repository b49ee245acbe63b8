"""The job event model: what the history store parses from the topic."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from gpu_node.events import JobEvent, JobEventType


def test_an_event_round_trips_through_json_with_its_type() -> None:
    event = JobEvent(
        type=JobEventType.COMPLETED,
        job_id="j-1",
        message_id="m-1",
        at=datetime(2026, 11, 22, 11, 0, tzinfo=UTC),
        instance_id="i-1",
        instance_type="g5.xlarge",
        pool="us-east-1/us-east-1a/g5.xlarge",
        model="sd15",
        attempts=2,
        started_at=datetime(2026, 11, 22, 10, 59, tzinfo=UTC),
        finished_at=datetime(2026, 11, 22, 11, 0, tzinfo=UTC),
        seconds=60.0,
    )
    parsed = JobEvent.model_validate_json(event.model_dump_json())
    assert parsed == event
    assert parsed.type is JobEventType.COMPLETED


def test_the_types_are_the_states_of_the_jobs_table() -> None:
    assert {t.value for t in JobEventType} == {
        "started",
        "progress",
        "completed",
        "failed",
        "released",
        "dead_lettered",
    }


def test_an_unknown_type_is_refused() -> None:
    with pytest.raises(ValidationError):
        JobEvent.model_validate(
            {
                "type": "exploded",
                "job_id": "j",
                "message_id": "m",
                "at": "2026-11-22T11:00:00Z",
                "instance_id": "i",
                "instance_type": "t",
                "pool": "p",
            }
        )
