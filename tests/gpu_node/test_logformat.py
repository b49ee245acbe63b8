"""Structured logs: one JSON object per line, the context (fleet, pool, decision, instance,
job) as fields where it applies, and no credential in any field."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from gpu_node.logsafety import RedactingFilter
from tests.gpu_node.test_logsafety import CREDENTIALS, SECRET_ACCESS_KEY


@pytest.fixture
def json_log() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    from gpu_node.logformat import ContextFilter, json_formatter

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(json_formatter())
    handler.addFilter(ContextFilter())
    handler.addFilter(RedactingFilter(CREDENTIALS))
    logger = logging.getLogger("spotfleet.test.json")
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    yield logger, stream
    logger.removeHandler(handler)


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_a_traceback_in_a_json_line_is_redacted_too(
    json_log: tuple[logging.Logger, io.StringIO],
) -> None:
    """The JSON formatter formats ``exc_info`` itself: the redacted ``exc_text`` was bypassed
    and the secret in the exception's message reached the log."""
    logger, stream = json_log
    try:
        raise RuntimeError(f"signing failed with {SECRET_ACCESS_KEY}")
    except RuntimeError:
        logger.exception("call failed")
    (record,) = lines(stream)
    assert "RuntimeError: signing failed with [redacted]" in str(record["exc_info"])
    assert SECRET_ACCESS_KEY not in stream.getvalue()


def test_extra_fields_are_redacted(json_log: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = json_log
    logger.info("asked", extra={"header": f"Authorization: Bearer {'t' * 20}"})
    (record,) = lines(stream)
    assert "[redacted]" in str(record["header"]) and "t" * 20 not in stream.getvalue()


def test_each_line_is_one_object_with_the_context_that_applies(
    json_log: tuple[logging.Logger, io.StringIO],
) -> None:
    from gpu_node.logformat import log_context

    logger, stream = json_log
    with log_context(fleet="gen", decision_id="d-1"):
        logger.info("planned %d nodes", 3)
        with log_context(instance_id="i-0abc", pool="us-east-1/us-east-1a/g5.xlarge"):
            logger.warning("draining")
    logger.info("outside")
    planned, draining, outside = lines(stream)
    assert planned["message"] == "planned 3 nodes" and planned["level"] == "INFO"
    assert planned["fleet"] == "gen" and planned["decision_id"] == "d-1"
    assert "instance_id" not in planned and planned["logger"] == "spotfleet.test.json"
    assert draining["instance_id"] == "i-0abc" and draining["fleet"] == "gen"
    assert draining["pool"] == "us-east-1/us-east-1a/g5.xlarge"
    assert not {"fleet", "pool", "decision_id", "instance_id", "job_id"} & set(outside)
    assert {"time", "level", "logger", "message"} <= set(outside)
