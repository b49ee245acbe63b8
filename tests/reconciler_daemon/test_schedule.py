from __future__ import annotations

import logging
import threading
import time

import pytest

from reconciler.core.errors import DecideError
from reconciler.daemon.schedule import Schedule

from .conftest import Clock


def wait_for(predicate: object, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.02)
    raise AssertionError("condition not met in time")


def test_a_failing_job_is_logged_retried_and_never_stops_the_others(
    caplog: pytest.LogCaptureFixture,
) -> None:
    failures: list[tuple[str, str]] = []
    schedule = Schedule(clock=Clock(), on_failure=lambda job, error: failures.append((job, error)))
    calls = {"bad": 0, "good": 0}

    def bad() -> None:
        calls["bad"] += 1
        raise RuntimeError("AWS said no")

    def good() -> None:
        calls["good"] += 1

    schedule.add("bad", bad, every_s=0.1, start=True)
    schedule.add("good", good, every_s=0.1, start=True)
    with caplog.at_level(logging.ERROR):
        schedule.start()
        try:
            wait_for(lambda: calls["bad"] >= 3 and calls["good"] >= 3)
        finally:
            schedule.shutdown()
    status = schedule.status()
    assert status["bad"]["failures"] >= 3 and status["bad"]["last_ok"] is False
    assert status["bad"]["last_error"] == "RuntimeError: AWS said no"
    assert status["good"]["failures"] == 0 and status["good"]["last_ok"] is True
    assert "job bad failed" in caplog.text
    assert failures[0] == ("bad", "RuntimeError: AWS said no")
    assert {job for job, _ in failures} == {"bad"}


def test_a_refused_job_says_why_in_one_warning_line_and_a_bug_keeps_its_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A job that refuses on purpose (too little history to retrain yet) is explained by its
    message; a traceback is for what nobody meant to raise."""
    schedule = Schedule(clock=Clock())
    calls = {"refused": 0, "bug": 0}

    def refused() -> None:
        calls["refused"] += 1
        raise DecideError("cannot train from the history: only 0 labelled pool-ticks")

    def bug() -> None:
        calls["bug"] += 1
        raise KeyError("oops")

    schedule.add("retrain", refused, every_s=0.1, start=True)
    schedule.add("broken", bug, every_s=0.1, start=True)
    with caplog.at_level(logging.WARNING):
        schedule.start()
        try:
            wait_for(lambda: calls["refused"] >= 1 and calls["bug"] >= 1)
        finally:
            schedule.shutdown()
    [refusal, *_] = [r for r in caplog.records if "retrain" in r.getMessage()]
    assert refusal.levelno == logging.WARNING
    assert "only 0 labelled pool-ticks" in refusal.getMessage()
    [crash, *_] = [r for r in caplog.records if "broken" in r.getMessage()]
    assert crash.levelno == logging.ERROR
    # What an operator reads: the bug's traceback, none for the refusal. (The text, not the
    # records' exc_info: the node's log redaction, installed by other tests, folds it in.)
    assert 'raise KeyError("oops")' in caplog.text
    assert "raise DecideError" not in caplog.text
    assert schedule.status()["retrain"]["last_error"].startswith("DecideError: ")


def test_a_slow_run_is_never_overlapped_and_missed_runs_coalesce() -> None:
    schedule = Schedule(clock=Clock())
    running, most, runs = [0], [0], [0]
    lock = threading.Lock()

    def slow() -> None:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.5)
        with lock:
            running[0] -= 1
            runs[0] += 1

    schedule.add("slow", slow, every_s=0.05, start=True)
    schedule.start()
    try:
        job = schedule.scheduler.get_job("slow")
        assert job is not None and job.coalesce is True and job.max_instances == 1
        wait_for(lambda: runs[0] >= 2)
    finally:
        schedule.shutdown()
    assert most[0] == 1
    # ten cadences passed during each run; coalescing ran them as one, not ten
    assert runs[0] <= 3


def test_run_now_brings_a_job_forward() -> None:
    schedule = Schedule(clock=Clock())
    ran = threading.Event()
    schedule.add("reconcile", ran.set, every_s=3600, start=False)
    schedule.start()
    try:
        assert not ran.wait(0.2)
        schedule.run_now("reconcile")
        assert ran.wait(3)
    finally:
        schedule.shutdown()
