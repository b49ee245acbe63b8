"""Assembles a node from its settings and runs it until it has drained.

Threads: the worker (jobs), the watcher (IMDS), the drain (acts on notices), the health API.
The main thread only waits, so SIGTERM and SIGINT are handled at once: they become notices
on the same drain path as a spot notice.
"""

from __future__ import annotations

import logging
import signal
import threading
from datetime import UTC, datetime
from types import FrameType

from analytics.kinds import Kind
from gpu_node.aws import AwsClients, make_clients
from gpu_node.backend import Backend
from gpu_node.backends import load_backend
from gpu_node.drain import Drain
from gpu_node.events import BackgroundPublisher, NullPublisher, SnsPublisher
from gpu_node.health import BackendSlot, HealthServer, build_app
from gpu_node.identity import NodeIdentity, resolve_identity
from gpu_node.imds import ImdsClient
from gpu_node.lifecycle import AsgLifecycle
from gpu_node.logformat import set_process_context
from gpu_node.metrics import NodeMetrics
from gpu_node.notices import InterruptionNotice, notice_id
from gpu_node.queues import JobQueues
from gpu_node.reporter import JobReporter
from gpu_node.results import ResultStore
from gpu_node.settings import NodeSettings
from gpu_node.state import NodeState
from gpu_node.watcher import ImdsWatcher
from gpu_node.worker import Worker

__all__ = ["Node", "run_node", "signal_notice"]

log = logging.getLogger(__name__)


class Node:
    """Every part of one node, wired once; ``run_node`` adds the process around it."""

    def __init__(
        self,
        *,
        settings: NodeSettings,
        identity: NodeIdentity,
        clients: AwsClients,
        imds: ImdsClient | None,
    ) -> None:
        self.settings = settings
        self.identity = identity
        self.clients = clients
        self.state = NodeState()
        self.metrics = NodeMetrics()
        self.gpu_lock = threading.Lock()
        self.slot = BackendSlot()
        self.queues = JobQueues(
            sqs=clients.sqs,
            queue_url=settings.queue_url,
            priority_queue_url=settings.priority_queue_url,
            dead_letter_queue_url=settings.dead_letter_queue_url,
            wait_seconds=settings.poll_wait_seconds,
            visibility_seconds=settings.visibility_seconds,
        )
        self._publisher: BackgroundPublisher | None = None
        if settings.events_topic_arn:
            self._publisher = BackgroundPublisher(
                SnsPublisher(sns=clients.sns, topic_arn=settings.events_topic_arn),
                on_failure=lambda exc: self.reporter.publish_failed(exc),
            )
        self.reporter = JobReporter(
            publisher=self._publisher or NullPublisher(),
            identity=identity,
            fleet=settings.fleet,
            model=settings.served_model,
            metrics=self.metrics,
        )
        self.drain = Drain(
            state=self.state,
            queues=self.queues,
            reporter=self.reporter,
            metrics=self.metrics,
            lifecycle=_lifecycle(settings, clients, identity),
            default_deadline_seconds=settings.drain_deadline_seconds,
            margin_seconds=settings.drain_margin_seconds,
        )
        self.watcher = (
            ImdsWatcher(
                imds=imds,
                interval=settings.imds_poll_seconds,
                emit=self.drain.notify,
                maintenance_lead_seconds=settings.maintenance_lead_seconds,
            )
            if imds is not None
            else None
        )
        self._worker_thread: threading.Thread | None = None

    def watch(self) -> None:
        """Start listening for notices: before the model loads, a notice must already count."""
        self.drain.start()
        if self.watcher is not None:
            self.watcher.start()

    def load(self, backend: Backend | None = None) -> Backend:
        """Sync (when a model URI is set) and load the model, unless a backend is given."""
        settings = self.settings
        if backend is None:
            if settings.model_s3_uri:
                from gpu_node.cache import sync_model

                sync_model(
                    s3=self.clients.s3,
                    uri=settings.model_s3_uri,
                    model_dir=settings.model_dir,
                    concurrency=settings.model_sync_concurrency,
                )
            backend = load_backend(
                model_dir=settings.model_dir,
                model_name=settings.served_model,
                cpu_threads=settings.cpu_threads,
            )
        self.slot.backend = backend
        self.state.model_loaded = True
        self.metrics.model_loaded.set(1)
        return backend

    def build_worker(self) -> Worker:
        backend = self.slot.backend
        if backend is None:
            raise RuntimeError("load the model before building the worker")
        return Worker(
            state=self.state,
            queues=self.queues,
            results=ResultStore(s3=self.clients.s3, bucket=self.settings.results_bucket),
            backend=backend,
            reporter=self.reporter,
            metrics=self.metrics,
            identity=self.identity,
            fleet=self.settings.fleet,
            gpu_lock=self.gpu_lock,
            progress_event_seconds=self.settings.progress_event_seconds,
        )

    def start_worker(self) -> None:
        worker = self.build_worker()
        if self.state.draining.is_set():  # a notice came while the model loaded
            self.state.worker_stopped.set()
            return
        self._worker_thread = threading.Thread(target=worker.run, name="worker", daemon=True)
        self._worker_thread.start()

    def wait(self, poll: float = 0.5) -> int:
        """Block until drained (0), or until the worker died without a drain (1)."""
        while not self.drain.finished.wait(poll):
            thread = self._worker_thread
            died = thread is not None and not thread.is_alive()
            if died and not self.state.draining.is_set():
                log.error("worker stopped without a drain; exiting for a restart")
                return 1
        return 0

    def close(self) -> None:
        if self.watcher is not None:
            self.watcher.stop()
        self.queues.close()  # deletes of stored jobs still queued go out first
        if self._publisher is not None:
            self._publisher.close()  # the last events (``released``) must still go out


def run_node(
    settings: NodeSettings,
    *,
    backend: Backend | None = None,
    clients: AwsClients | None = None,
) -> int:
    """Run until drained; 0 after a clean drain, 1 when the worker died.

    ``backend`` replaces the model from ``SPOTFLEET_MODEL_DIR`` (tests, benchmarks, a standby
    node that loaded it ahead); ``clients``, AWS clients made ahead (a standby node).
    """
    imds = ImdsClient(base_url=settings.imds_url)
    identity = resolve_identity(settings, imds)
    region = settings.region or (identity.region if identity.region != "local" else None)
    node = Node(
        settings=settings,
        identity=identity,
        clients=clients or make_clients(region=region),
        imds=imds,
    )
    # Every line of this process names the node and its pool (JSON: as fields).
    set_process_context(instance_id=identity.instance_id, pool=str(identity.pool))
    log.info("node %s in %s starting", identity.instance_id, identity.pool)
    health = HealthServer(
        build_app(
            state=node.state,
            metrics=node.metrics,
            identity=identity,
            slot=node.slot,
            gpu_lock=node.gpu_lock,
        ),
        host=settings.host,
        port=settings.port,
    )
    health.start()
    try:
        node.watch()
        _install_signal_handlers(node.drain)
        node.load(backend)
        node.start_worker()
        code = node.wait()
        log.info("drained; exiting" if code == 0 else "exiting after a worker failure")
        return code
    finally:
        node.close()
        health.stop()
        imds.close()


def signal_notice(signum: int) -> InterruptionNotice:
    # One id per process: a second SIGTERM is the same notice, not a second drain.
    return InterruptionNotice(
        kind=Kind.SIGTERM,
        id=notice_id(Kind.SIGTERM, "signal"),
        observed_at=datetime.now(UTC),
        deadline=None,
        detail=f"{signal.Signals(signum).name} received",
    )


def _lifecycle(
    settings: NodeSettings, clients: AwsClients, identity: NodeIdentity
) -> AsgLifecycle | None:
    if not (settings.lifecycle_hook and settings.asg_name):
        return None
    return AsgLifecycle(
        autoscaling=clients.autoscaling,
        hook=settings.lifecycle_hook,
        asg_name=settings.asg_name,
        instance_id=identity.instance_id,
    )


def _install_signal_handlers(drain: Drain) -> None:
    def on_signal(signum: int, frame: FrameType | None) -> None:
        drain.notify(signal_notice(signum))

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
