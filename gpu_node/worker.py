"""The job worker: take one job at a time, priority first, and see it through to a stored result.

A message is deleted only after its result is stored. While a job runs, a heartbeat keeps its
message hidden; if the node dies, the message reappears and another node runs it. A job that
breaks the schema goes to the dead-letter queue at once with its reason; a job that fails
inside the model is given back for the queue's redrive to retry and, in the end, dead-letter.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

from gpu_node.backend import Backend
from gpu_node.errors import InvalidJobError, JobCancelled, NodeError, QueueError
from gpu_node.events import JobEventType
from gpu_node.identity import NodeIdentity
from gpu_node.jobs import Job, parse_job
from gpu_node.logformat import log_context
from gpu_node.metrics import JobOutcome, NodeMetrics
from gpu_node.queues import Delivery, JobQueues
from gpu_node.reporter import JobReporter
from gpu_node.results import ResultRecord, ResultStore, Timings
from gpu_node.state import NodeState, RunningJob

__all__ = ["Worker"]

log = logging.getLogger(__name__)

# After an AWS error in the loop itself, wait a little: a down endpoint must not become a spin.
_ERROR_BACKOFF_SECONDS = 1.0


class Worker:
    def __init__(
        self,
        *,
        state: NodeState,
        queues: JobQueues,
        results: ResultStore,
        backend: Backend,
        reporter: JobReporter,
        metrics: NodeMetrics,
        identity: NodeIdentity,
        fleet: str | None,
        gpu_lock: threading.Lock,
        progress_event_seconds: float,
        monotonic: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._state = state
        self._queues = queues
        self._results = results
        self._backend = backend
        self._reporter = reporter
        self._metrics = metrics
        self._identity = identity
        self._fleet = fleet
        self._gpu_lock = gpu_lock
        self._progress_every = progress_event_seconds
        self._monotonic = monotonic
        self._now = now

    def run(self) -> None:
        """Take jobs until the node drains; then say so and return."""
        try:
            while not self._state.draining.is_set():
                try:
                    delivery = self._queues.receive(stop=self._state.draining)
                except QueueError as exc:
                    log.error("cannot receive jobs: %s", exc)
                    self._state.draining.wait(_ERROR_BACKOFF_SECONDS)
                    continue
                if delivery is None:
                    continue
                try:
                    self.handle(delivery)
                except Exception:
                    # A bug of ours, not the message's: give it back (the redrive ends a loop)
                    # and keep serving the rest of the queue.
                    log.exception("job message %s not handled", delivery.message_id)
                    self._give_back(delivery)
        finally:
            self._state.worker_stopped.set()

    def handle(self, delivery: Delivery) -> None:
        if self._state.draining.is_set():
            self._give_back(delivery)  # received during the last long poll: not ours to start
            return
        try:
            job = self._parse(delivery)
        except InvalidJobError as exc:
            with log_context(job_id=exc.job_id):
                self._dead_letter(delivery, exc)
            return
        with log_context(job_id=job.job_id):  # every line about this job names it
            self._handle_job(delivery, job)

    def _handle_job(self, delivery: Delivery, job: Job) -> None:
        if self._already_done(delivery, job):
            return
        if delivery.sent_at is not None:
            wait = (self._now() - delivery.sent_at).total_seconds()
            self._metrics.queue_wait_seconds.observe(max(0.0, wait))
        running = RunningJob(
            delivery=delivery, job=job, started_at=self._now(), started_mono=self._monotonic()
        )
        if not self._state.begin(running):
            self._give_back(delivery)
            return
        heartbeat = _Heartbeat(self._queues, running)
        heartbeat.start()
        try:
            self._run(running)
        finally:
            heartbeat.stop()
            running.finished = True
            self._state.end(running)

    def _parse(self, delivery: Delivery) -> Job:
        """The job, or ``InvalidJobError`` for anything a body does: a message the parser did
        not foresee must still go to the dead-letter queue with a reason, never stop the node.
        """
        try:
            job = parse_job(delivery.body)
        except InvalidJobError:
            raise
        except Exception as exc:
            raise InvalidJobError(f"body could not be read: {type(exc).__name__}: {exc}") from exc
        if job.model is not None and job.model != self._backend.model_name:
            raise InvalidJobError(
                f"model: this fleet serves {self._backend.model_name!r}, not {job.model!r}",
                job_id=job.job_id,
            )
        return job

    def _run(self, running: RunningJob) -> None:
        delivery, job = running.delivery, running.job
        self._reporter.report(
            JobEventType.STARTED,
            delivery,
            job.job_id,
            started_at=running.started_at,
            submitted_at=job.submitted_at,
            total_steps=job.steps,
        )
        try:
            with self._gpu_lock:
                png = self._backend.generate(job, self._on_step(running))
            generated_mono = self._monotonic()
            with running.lock:
                if running.released:  # the drain gave it back just as the last step ended
                    raise JobCancelled(job.job_id)
                running.committing = True
            finished_at = self._now()
            record = self._record(running, finished_at, generated_mono)
            self._results.store(record, png)
            self._queues.delete_later(delivery)
        except JobCancelled:
            self._metrics.jobs.labels(outcome=JobOutcome.RELEASED).inc()
            return  # the drain has given the message back and said so
        except Exception as exc:
            # A model failure, or S3/SQS failing us: the message goes back for the redrive.
            # Any other surprise too: one bad job must not stop the node.
            self._failed(running, exc)
            return
        seconds = (finished_at - running.started_at).total_seconds()
        self._metrics.jobs.labels(outcome=JobOutcome.COMPLETED).inc()
        self._metrics.job_seconds.observe(seconds)
        self._reporter.report(
            JobEventType.COMPLETED,
            delivery,
            job.job_id,
            started_at=running.started_at,
            finished_at=finished_at,
            seconds=seconds,
            submitted_at=job.submitted_at,
            step=job.steps,
            total_steps=job.steps,
        )

    def _on_step(self, running: RunningJob) -> Callable[[int, int], None]:
        last_event = self._monotonic()

        def on_step(done: int, total: int) -> None:
            nonlocal last_event
            now = self._monotonic()
            running.record_step(done, now)
            if running.cancelled.is_set():
                raise JobCancelled(running.job.job_id)
            if self._progress_every and now - last_event >= self._progress_every and done < total:
                last_event = now
                self._reporter.report(
                    JobEventType.PROGRESS,
                    running.delivery,
                    running.job.job_id,
                    started_at=running.started_at,
                    step=done,
                    total_steps=total,
                )

        return on_step

    def _record(
        self, running: RunningJob, finished_at: datetime, generated_mono: float
    ) -> ResultRecord:
        job, delivery = running.job, running.delivery
        wait = (running.started_at - delivery.sent_at).total_seconds() if delivery.sent_at else None
        return ResultRecord(
            job_id=job.job_id,
            node=self._identity.instance_id,
            instance_type=self._identity.instance_type,
            pool=self._identity.pool,
            fleet=self._fleet,
            model=self._backend.model_name,
            seed=job.seed,
            width=job.width,
            height=job.height,
            steps=job.steps,
            guidance=job.guidance,
            prompt=job.prompt,
            negative_prompt=job.negative_prompt,
            attempts=delivery.receive_count,
            timings=Timings(
                submitted_at=job.submitted_at,
                queued_at=delivery.sent_at,
                started_at=running.started_at,
                finished_at=finished_at,
                queue_wait_seconds=wait,
                generate_seconds=round(generated_mono - running.started_mono, 6),
                total_seconds=round((finished_at - running.started_at).total_seconds(), 6),
            ),
        )

    def _already_done(self, delivery: Delivery, job: Job) -> bool:
        """A redelivered job whose result is already whole: delete the message, do not rerun.

        Only a redelivery can find one (a node stored the result, then died before deleting),
        so a first delivery skips the look.
        """
        if delivery.receive_count <= 1:
            return False
        try:
            if not self._results.exists(job.job_id):
                return False
            self._queues.delete(delivery)
        except NodeError as exc:
            log.warning("could not check or settle %s: %s; running it", job.job_id, exc)
            return False
        log.info("job %s already has its result; deleted the redelivery", job.job_id)
        self._metrics.jobs.labels(outcome=JobOutcome.DUPLICATE).inc()
        return True

    def _dead_letter(self, delivery: Delivery, exc: InvalidJobError) -> None:
        self._metrics.jobs.labels(outcome=JobOutcome.INVALID).inc()
        try:
            sent = self._queues.dead_letter(delivery, reason=exc.reason, job_id=exc.job_id)
        except QueueError as error:
            log.error("invalid job %s not dead-lettered yet: %s", delivery.message_id, error)
            self._reporter.report(JobEventType.FAILED, delivery, exc.job_id, error=exc.reason)
            return  # the queue's redrive will move it after enough receives
        self._reporter.report(JobEventType.FAILED, delivery, exc.job_id, error=exc.reason)
        if sent:
            self._reporter.report(
                JobEventType.DEAD_LETTERED, delivery, exc.job_id, error=exc.reason
            )

    def _failed(self, running: RunningJob, exc: Exception) -> None:
        delivery, job = running.delivery, running.job
        error = str(exc) if isinstance(exc, NodeError) else f"{type(exc).__name__}: {exc}"
        log.error("job %s failed: %s", job.job_id, error, exc_info=not isinstance(exc, NodeError))
        self._metrics.jobs.labels(outcome=JobOutcome.FAILED).inc()
        finished_at = self._now()
        self._reporter.report(
            JobEventType.FAILED,
            delivery,
            job.job_id,
            error=error,
            started_at=running.started_at,
            finished_at=finished_at,
            seconds=(finished_at - running.started_at).total_seconds(),
        )
        with running.lock:
            running.released = True  # stop the heartbeat from hiding it again
        self._give_back(delivery)
        try:
            target = self._queues.dead_letter_target(delivery.queue_url)
        except QueueError:
            return
        if (
            target.max_receive_count is not None
            and delivery.receive_count >= target.max_receive_count
        ):
            # SQS moves it to the dead-letter queue on its next receive.
            self._reporter.report(JobEventType.DEAD_LETTERED, delivery, job.job_id, error=error)

    def _give_back(self, delivery: Delivery) -> None:
        try:
            self._queues.release(delivery)
        except QueueError as exc:
            log.warning(
                "could not give %s back; it returns when its visibility ends: %s",
                delivery.message_id,
                exc,
            )


class _Heartbeat:
    """Keeps the running job's message hidden: extends its visibility every third of it."""

    def __init__(self, queues: JobQueues, running: RunningJob) -> None:
        self._queues = queues
        self._running = running
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="visibility", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        period = self._queues.visibility_seconds / 3
        while not self._stop.wait(period):
            with self._running.lock:
                if self._running.released or self._running.committing or self._stop.is_set():
                    return
                try:
                    self._queues.extend(self._running.delivery)
                except QueueError as exc:
                    log.warning("visibility of %s not extended: %s", self._running.job.job_id, exc)
