"""Credentials never reach a log, at any level (issue 15, item 5)."""

from __future__ import annotations

import io
import logging
import signal
from collections.abc import Iterator

import boto3
import pytest

from gpu_node.logsafety import REDACTED, RedactingFilter, install_redaction, redact
from tests.gpu_node.aws_env import Fleet, job
from tests.gpu_node.conftest import Spawn
from tests.gpu_node.harness import wait_for
from tests.gpu_node.imds_server import FakeImds

# AWS's documented example key pair, and a session token shaped like STS's.
ACCESS_KEY_ID = "ASIAIOSFODNN7EXAMPLE"
SECRET_ACCESS_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
SESSION_TOKEN = "IQoJb3JpZ2luX2VjEXAMPLEtokenFwoGZXIvYXdzEBYaDExAMPLE0123456789abcdef+/="
CREDENTIALS = (ACCESS_KEY_ID, SECRET_ACCESS_KEY, SESSION_TOKEN)


@pytest.mark.parametrize(
    "line",
    [
        f"Credential={ACCESS_KEY_ID}/20260101/us-east-1/sqs/aws4_request",
        f"key AKIAIOSFODNN7EXAMPLE and {ACCESS_KEY_ID}",
        f"{{'X-Amz-Security-Token': b'{SESSION_TOKEN}', 'Authorization': b'AWS4-HMAC-SHA256 x'}}",
        f"x-amz-security-token:{SESSION_TOKEN}",
        f"aws_secret_access_key = {SECRET_ACCESS_KEY}",
        f'"SecretAccessKey": "{SECRET_ACCESS_KEY}", "SessionToken": "{SESSION_TOKEN}"',
        "Authorization: Bearer s3cr3t-daemon-token-123",
        "authorization: bearer s3cr3t-daemon-token-123",
        "SPOTFLEET_DAEMON_API_TOKEN=s3cr3t-daemon-token-123",
    ],
)
def test_credential_shaped_text_is_redacted(line: str) -> None:
    cleaned = redact(line)
    assert REDACTED in cleaned
    for secret in (*CREDENTIALS, "AKIAIOSFODNN7EXAMPLE", "s3cr3t-daemon-token-123"):
        assert secret not in cleaned


def test_ordinary_log_lines_are_left_alone() -> None:
    line = "job job-1 failed: steps: Input should be less than or equal to 150 (token bucket 3)"
    assert redact(line) == line


@pytest.fixture
def captured() -> Iterator[logging.StreamHandler[io.StringIO]]:
    """A root handler of our own, botocore at DEBUG before the guard, all put back after."""
    root = logging.getLogger()
    quiet = ("botocore", "boto3", "s3transfer", "urllib3")
    saved_root, saved = root.level, {n: logging.getLogger(n).level for n in quiet}
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    logging.getLogger("botocore").setLevel(logging.DEBUG)
    yield handler
    root.removeHandler(handler)
    for other in root.handlers:  # install_redaction guards every root handler, pytest's too
        for added in [f for f in other.filters if isinstance(f, RedactingFilter)]:
            other.removeFilter(added)
    root.setLevel(saved_root)
    for name, level in saved.items():
        logging.getLogger(name).setLevel(level)


def test_botocores_own_debug_output_passes_the_filter_without_a_credential(
    moto_endpoint: str, captured: logging.StreamHandler[io.StringIO]
) -> None:
    captured.addFilter(RedactingFilter(CREDENTIALS))
    session = boto3.session.Session(
        aws_access_key_id=ACCESS_KEY_ID,
        aws_secret_access_key=SECRET_ACCESS_KEY,
        aws_session_token=SESSION_TOKEN,
        region_name="us-east-1",
    )
    session.client("sqs", endpoint_url=moto_endpoint).list_queues()
    text = captured.stream.getvalue()
    assert "x-amz-security-token" in text.lower()  # botocore did log its signed request
    for secret in CREDENTIALS:
        assert secret not in text


def test_the_guard_keeps_botocore_above_debug(
    captured: logging.StreamHandler[io.StringIO],
) -> None:
    install_redaction()
    assert logging.getLogger("botocore").getEffectiveLevel() >= logging.INFO
    assert logging.getLogger("urllib3").getEffectiveLevel() >= logging.INFO


@pytest.mark.slow
def test_a_node_process_at_debug_logs_no_credential(
    fleet: Fleet, imds: FakeImds, spawn: Spawn
) -> None:
    node = spawn(
        {
            **fleet.settings_env(SPOTFLEET_IMDS_URL=imds.url, SPOTFLEET_INSTANCE_ID="i-debug"),
            "SPOTFLEET_LOG_LEVEL": "DEBUG",
            "AWS_ACCESS_KEY_ID": ACCESS_KEY_ID,
            "AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
            "AWS_SESSION_TOKEN": SESSION_TOKEN,
        },
        "debug",
    )
    fleet.send(job("logged-at-debug"))
    fleet.send("not json, so the dead-letter path is taken too")
    wait_for(lambda: "results/logged-at-debug.json" in fleet.result_keys(), timeout=30)
    wait_for(lambda: fleet.drain_queue(fleet.dlq_url), timeout=15)
    node.proc.send_signal(signal.SIGTERM)
    assert node.wait(timeout=15) == 0, node.log()

    log = node.log()
    assert " DEBUG " in log  # the level took effect: this run did log at DEBUG
    for secret in CREDENTIALS:
        assert secret not in log, f"{secret[:4]}... reached the log"
    assert "AKIA" not in log and "ASIA" not in log
