"""Structured logs: one JSON object per line, the context (fleet, pool, decision, instance,
job) as fields where it applies, and no credential in any field."""

from __future__ import annotations

import io
import json
import logging
import os
import signal
import subprocess
import sys
from collections.abc import Iterator

import pytest

from gpu_node.logsafety import RedactingFilter
from tests.gpu_node.aws_env import Fleet, job
from tests.gpu_node.conftest import Spawn
from tests.gpu_node.harness import wait_for
from tests.gpu_node.imds_server import FakeImds
from tests.gpu_node.test_logsafety import (
    ACCESS_KEY_ID,
    CREDENTIALS,
    SECRET_ACCESS_KEY,
    SESSION_TOKEN,
)


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


@pytest.mark.slow
def test_a_node_logs_json_lines_naming_its_instance_and_each_job_and_no_credential(
    fleet: Fleet, imds: FakeImds, spawn: Spawn
) -> None:
    node = spawn(
        {
            **fleet.settings_env(SPOTFLEET_IMDS_URL=imds.url, SPOTFLEET_INSTANCE_ID="i-0json"),
            "SPOTFLEET_LOG_FORMAT": "json",
            "SPOTFLEET_LOG_LEVEL": "DEBUG",
            "AWS_ACCESS_KEY_ID": ACCESS_KEY_ID,
            "AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
            "AWS_SESSION_TOKEN": SESSION_TOKEN,
        },
        "json",
    )
    fleet.send(job("logged-as-json"))
    fleet.send("not json, so the dead-letter path is taken too")
    wait_for(lambda: "results/logged-as-json.json" in fleet.result_keys(), timeout=30)
    wait_for(lambda: fleet.drain_queue(fleet.dlq_url), timeout=15)
    node.proc.send_signal(signal.SIGTERM)
    assert node.wait(timeout=15) == 0, node.log()

    log = node.log()
    records = [json.loads(line) for line in log.splitlines() if line.strip()]  # every line
    assert records and all({"time", "level", "logger", "message"} <= set(r) for r in records)
    start = next(i for i, r in enumerate(records) if "starting" in str(r["message"]))
    assert all(r.get("instance_id") == "i-0json" for r in records[start:])  # once it knows
    assert records[start]["pool"] == "us-east-1/us-east-1a/g5.xlarge"
    about_the_job = [r for r in records if r.get("job_id") == "logged-as-json"]
    assert any("completed" in str(r["message"]) for r in about_the_job), about_the_job
    for secret in CREDENTIALS:
        assert secret not in log, f"{secret[:4]}... reached the log"


def test_a_log_format_that_does_not_exist_stops_the_node_saying_so() -> None:
    env = {**os.environ, "SPOTFLEET_LOG_FORMAT": "yaml"}
    done = subprocess.run(
        [sys.executable, "-m", "gpu_node", "run"],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert "error: SPOTFLEET_LOG_FORMAT: 'yaml' is not a log format; use one of text, json" in (
        done.stderr
    )
