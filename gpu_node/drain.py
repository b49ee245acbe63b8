"""The one drain path. Every notice ends here: spot notice, EC2 scheduled event, Auto Scaling
termination, SIGTERM.

On the first notice that drains: stop taking jobs; let the running job finish if its own pace
says it ends well before the deadline, otherwise give it back at once (visibility 0, a
``released`` event) and stop it; re-check while it runs, since a job can slow down; complete
the lifecycle action when the group is terminating this node; then tell the process to exit.
A rebalance recommendation is counted and logged, nothing more.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

from analytics.kinds import Kind
from gpu_node.errors import NodeError
from gpu_node.events import JobEventType
from gpu_node.lifecycle import LifecycleCompleter
from gpu_node.metrics import NodeMetrics
from gpu_node.notices import InterruptionNotice
from gpu_node.queues import JobQueues
from gpu_node.reporter import JobReporter
from gpu_node.state import NodeState, RunningJob

__all__ = ["Drain"]

log = logging.getLogger(__name__)

_CHECK_SECONDS = 0.1


class Drain:
    def __init__(
        self,
        *,
        state: NodeState,
        queues: JobQueues,
        reporter: JobReporter,
        metrics: NodeMetrics,
        lifecycle: LifecycleCompleter | None,
        default_deadline_seconds: float,
        margin_seconds: float,
        monotonic: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._state = state
        self._queues = queues
        self._reporter = reporter
        self._metrics = metrics
        self._lifecycle = lifecycle
        self._default_deadline = default_deadline_seconds
        self._margin = margin_seconds
        self._monotonic = monotonic
        self._now = now
        self._notices: queue.Queue[InterruptionNotice] = queue.Queue()
        self._seen: set[str] = set()
        self._deadline: float | None = None  # monotonic
        self._complete_lifecycle = False
        self._thread: threading.Thread | None = None
        self.finished = threading.Event()
        self.notices_seen: list[InterruptionNotice] = []

    def notify(self, notice: InterruptionNotice) -> None:
        """Hand a notice to the drain. Safe from any thread and from a signal handler."""
        self._notices.put_nowait(notice)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="drain", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            notice = self._notices.get()
            if not self._take(notice):
                continue
            try:
                self._drain()
            except Exception:  # still exit: the node is going away whatever happened here
                log.exception("drain failed part-way")
            finally:
                self.finished.set()
            return

    def _take(self, notice: InterruptionNotice) -> bool:
        """Record a notice; True when it starts the drain."""
        if notice.id in self._seen:
            return False
        self._seen.add(notice.id)
        self.notices_seen.append(notice)
        self._metrics.notices.labels(kind=str(notice.kind)).inc()
        if not notice.drains:
            log.warning("%s: reported, not drained", notice.detail)
            return False
        self._absorb(notice)
        log.warning("%s: draining", notice.detail)
        self._metrics.drains.labels(kind=str(notice.kind)).inc()
        self._metrics.draining.set(1)
        return True

    def _absorb(self, notice: InterruptionNotice) -> None:
        """A later notice may bring the deadline closer or add the lifecycle action."""
        if notice.deadline is not None:
            remaining = (notice.deadline - self._now()).total_seconds()
        else:
            remaining = self._default_deadline
        deadline = self._monotonic() + remaining
        self._deadline = deadline if self._deadline is None else min(self._deadline, deadline)
        if notice.kind is Kind.ASG_TERMINATION:
            self._complete_lifecycle = True

    def _drain(self) -> None:
        running = self._state.start_draining()
        while running is not None and not running.finished:
            self._absorb_pending()
            if not self._will_finish(running):
                self._release(running)
            if running.finished or running.released:
                break
            time.sleep(_CHECK_SECONDS)
        # The worker may be inside a long poll; what it receives now it gives straight back.
        assert self._deadline is not None
        self._state.worker_stopped.wait(timeout=max(0.0, self._deadline - self._monotonic()))
        self._absorb_pending()
        if self._complete_lifecycle and self._lifecycle is not None:
            try:
                self._lifecycle.complete()
            except NodeError as exc:
                log.error("lifecycle action not completed: %s", exc)

    def _absorb_pending(self) -> None:
        while True:
            try:
                notice = self._notices.get_nowait()
            except queue.Empty:
                return
            if notice.id not in self._seen:
                self._seen.add(notice.id)
                self.notices_seen.append(notice)
                self._metrics.notices.labels(kind=str(notice.kind)).inc()
                if notice.drains:
                    self._absorb(notice)

    def _will_finish(self, running: RunningJob) -> bool:
        assert self._deadline is not None
        end = running.projected_end(self._monotonic())
        # Before its first step a job's pace is unknown: giving it back costs another node
        # almost nothing, keeping it risks the whole job.
        return end is not None and end <= self._deadline - self._margin

    def _release(self, running: RunningJob) -> None:
        with running.lock:
            if running.committing or running.finished or running.released:
                return  # storing its result takes moments: let it
            running.released = True
            running.cancelled.set()
            try:
                self._queues.release(running.delivery)
            except NodeError as exc:
                # The message's visibility will run out by itself; another node takes it then.
                log.error("could not give job %s back at once: %s", running.job.job_id, exc)
        self._reporter.report(
            JobEventType.RELEASED,
            running.delivery,
            running.job.job_id,
            started_at=running.started_at,
            step=running.steps_done,
            total_steps=running.job.steps,
            submitted_at=running.job.submitted_at,
        )
