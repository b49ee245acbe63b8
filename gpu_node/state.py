"""The facts the worker, the drain and the health API share, behind one lock each.

The node lock makes "start a job" and "start draining" exclusive: once draining is set, no job
can begin, so the drain knows the running job (if any) is the last one.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime

from gpu_node.jobs import Job
from gpu_node.queues import Delivery

__all__ = ["NodeState", "RunningJob"]


@dataclass(eq=False, kw_only=True)
class RunningJob:
    delivery: Delivery
    job: Job
    started_at: datetime
    started_mono: float
    # Held while the message's visibility changes or the result is being committed, so a
    # heartbeat can never re-hide a message the drain has just given back.
    lock: threading.Lock = field(default_factory=threading.Lock)
    cancelled: threading.Event = field(default_factory=threading.Event)
    released: bool = False  # the drain gave the message back; the worker must not store
    committing: bool = False  # the worker is storing the result; the drain must let it finish
    finished: bool = False
    steps_done: int = 0
    last_step_mono: float | None = None

    def record_step(self, done: int, now: float) -> None:
        self.steps_done = done
        self.last_step_mono = now

    def projected_end(self, now: float) -> float | None:
        """When the generation should end (monotonic), from its own pace; None before a step.

        A step that is taking longer than the pace so far pushes the end out as the clock
        runs, so a stalled generation cannot keep looking as if it will finish in time.
        """
        if self.steps_done <= 0 or self.last_step_mono is None:
            return None
        remaining = self.job.steps - self.steps_done
        per_step = (self.last_step_mono - self.started_mono) / self.steps_done
        on_pace = self.last_step_mono + per_step * remaining
        if remaining <= 0:
            return on_pace
        return max(on_pace, now + per_step * (remaining - 1))


class NodeState:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.draining = threading.Event()
        self.worker_stopped = threading.Event()
        self.stopped = threading.Event()
        self.model_loaded = False
        self._current: RunningJob | None = None

    @property
    def current(self) -> RunningJob | None:
        with self._lock:
            return self._current

    def begin(self, running: RunningJob) -> bool:
        """Make ``running`` the current job, unless the node is draining (then False)."""
        with self._lock:
            if self.draining.is_set():
                return False
            self._current = running
            return True

    def end(self, running: RunningJob) -> None:
        with self._lock:
            if self._current is running:
                self._current = None

    def start_draining(self) -> RunningJob | None:
        """Stop taking jobs; the job still running, if any, is returned."""
        with self._lock:
            self.draining.set()
            return self._current
