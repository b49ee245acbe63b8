"""The schedule: APScheduler 3 jobs, each on its own cadence, each doing one thing.

Every job runs with ``coalesce`` (missed runs collapse into one) and ``max_instances=1``
(a slow run is never overlapped by the next). A job that raises is logged with its
traceback, counted, and runs again at its next time: the wrapper swallows the exception,
so the scheduler never sees it and never stops. Every run's end is reported to ``health``
(readiness: is each signal fresh).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger

from reconciler.api.status_view import JobRun
from reconciler.core.errors import DaemonError, ReconcilerError

if TYPE_CHECKING:
    from reconciler.daemon.health import Health

__all__ = ["JobStatus", "Schedule", "ScheduledJob"]


@dataclass(frozen=True, slots=True)
class ScheduledJob:
    name: str
    run: Callable[[], None]
    every_s: float
    first_in_s: float  # when it first runs after the start


log = logging.getLogger(__name__)


@dataclass
class JobStatus:
    name: str
    every_s: float
    runs: int = 0
    failures: int = 0
    last_started: str | None = None
    last_finished: str | None = None
    last_ok: bool | None = None
    last_error: str | None = None
    last_seconds: float | None = None


class Schedule:
    def __init__(
        self,
        *,
        clock: Callable[[], datetime],
        on_failure: Callable[[str, str], None] | None = None,
        health: Health | None = None,
    ) -> None:
        self._clock = clock
        self._on_failure = on_failure
        self._health = health
        self._status: dict[str, JobStatus] = {}
        self._lock = threading.Lock()
        self.scheduler = BackgroundScheduler(
            timezone=UTC,
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )

    def add(
        self,
        name: str,
        fn: Callable[[], object],
        *,
        every_s: float,
        start: bool,
        first_in_s: float | None = None,
    ) -> None:
        """``start``: first run right away rather than one cadence from now;
        ``first_in_s`` overrides both."""
        self._status[name] = JobStatus(name, every_s)
        if self._health is not None:
            self._health.expect(name)
        delay = first_in_s if first_in_s is not None else (0.0 if start else every_s)
        first = datetime.now(UTC) + timedelta(seconds=delay)
        self.scheduler.add_job(
            self._wrap(name, fn),
            IntervalTrigger(seconds=every_s, timezone=UTC),
            id=name,
            name=name,
            next_run_time=first,
        )

    def _wrap(self, name: str, fn: Callable[[], object]) -> Callable[[], None]:
        def run() -> None:
            status = self._status[name]
            started = time.perf_counter()
            error: str | None = None
            with self._lock:
                status.last_started = self._clock().isoformat()
            try:
                fn()
            except ReconcilerError as exc:  # refused on purpose: its message says why
                log.warning("job %s failed: %s; it runs again in %.0f s", name, exc, status.every_s)
                error = f"{type(exc).__name__}: {exc}"
            except Exception as exc:  # a job's failure must never reach the scheduler
                log.exception("job %s failed; it runs again in %.0f s", name, status.every_s)
                error = f"{type(exc).__name__}: {exc}"
            ok = error is None
            with self._lock:
                status.runs += 1
                status.failures += 0 if ok else 1
                status.last_ok = ok
                status.last_error = error
                status.last_finished = self._clock().isoformat()
                status.last_seconds = round(time.perf_counter() - started, 4)
            if self._health is not None:
                self._health.record(name, error)
            if error is not None and self._on_failure is not None:
                self._on_failure(name, error)

        return run

    def has(self, name: str) -> bool:
        return name in self._status

    def run_now(self, name: str) -> None:
        """Bring a job's next run forward to now (the reconcile after a warning)."""
        if not self.has(name):
            raise DaemonError(f"no {name!r} job is scheduled in this daemon (it has not started)")
        self.scheduler.modify_job(name, next_run_time=datetime.now(UTC))

    def start(self) -> None:
        self.scheduler.start()

    def shutdown(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)

    def status(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            return {name: asdict(s) for name, s in self._status.items()}

    def runs(self) -> dict[str, JobRun]:
        """Each job's runs so far, as the status API shows them (copies: the jobs go on)."""
        with self._lock:
            return {name: JobRun(**asdict(s)) for name, s in self._status.items()}

    @property
    def running(self) -> bool:
        return bool(self.scheduler.running)
