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

from gpu_node.aws import AwsClients, make_clients
from gpu_node.backend import Backend, load_backend
from gpu_node.drain import Drain
from gpu_node.events import EventPublisher, NullPublisher, SnsPublisher
from gpu_node.health import BackendSlot, HealthServer, build_app
from gpu_node.identity import NodeIdentity, resolve_identity
from gpu_node.imds import ImdsClient
from gpu_node.lifecycle import AsgLifecycle
from gpu_node.metrics import NodeMetrics
from gpu_node.notices import InterruptionNotice, NoticeKind, notice_id
from gpu_node.queues import JobQueues
from gpu_node.reporter import JobReporter
from gpu_node.results import ResultStore
from gpu_node.settings import NodeSettings
from gpu_node.state import NodeState
from gpu_node.watcher import ImdsWatcher

__all__ = ["run_node"]

log = logging.getLogger(__name__)


def run_node(settings: NodeSettings, *, backend: Backend | None = None) -> int:
    """Run until drained; 0 after a clean drain, 1 when the worker died.

    ``backend`` replaces the model from ``SPOTFLEET_MODEL_DIR`` (tests, benchmarks).
    """
    imds = ImdsClient(base_url=settings.imds_url)
    identity = resolve_identity(settings, imds)
    region = identity.region if identity.region != "local" else None
    clients = make_clients(region=settings.region or region)
    log.info("node %s in %s starting", identity.instance_id, identity.pool)

    state = NodeState()
    metrics = NodeMetrics()
    gpu_lock = threading.Lock()
    slot = BackendSlot()
    health = HealthServer(
        build_app(state=state, metrics=metrics, identity=identity, slot=slot, gpu_lock=gpu_lock),
        host=settings.host,
        port=settings.port,
    )
    health.start()

    queues = JobQueues(
        sqs=clients.sqs,
        queue_url=settings.queue_url,
        priority_queue_url=settings.priority_queue_url,
        dead_letter_queue_url=settings.dead_letter_queue_url,
        wait_seconds=settings.poll_wait_seconds,
        visibility_seconds=settings.visibility_seconds,
    )
    reporter = JobReporter(
        publisher=_publisher(settings, clients),
        identity=identity,
        fleet=settings.fleet,
        model=settings.served_model,
        metrics=metrics,
    )
    drain = Drain(
        state=state,
        queues=queues,
        reporter=reporter,
        metrics=metrics,
        lifecycle=_lifecycle(settings, clients, identity),
        default_deadline_seconds=settings.drain_deadline_seconds,
        margin_seconds=settings.drain_margin_seconds,
    )
    drain.start()
    _install_signal_handlers(drain)
    watcher = ImdsWatcher(imds=imds, interval=settings.imds_poll_seconds, emit=drain.notify)
    watcher.start()

    try:
        if backend is None:
            if settings.model_s3_uri:
                from gpu_node.cache import sync_model

                sync_model(
                    s3=clients.s3,
                    uri=settings.model_s3_uri,
                    model_dir=settings.model_dir,
                    concurrency=settings.model_sync_concurrency,
                )
            backend = load_backend(
                model_dir=settings.model_dir,
                model_name=settings.served_model,
                cpu_threads=settings.cpu_threads,
            )
        slot.backend = backend
        state.model_loaded = True
        metrics.model_loaded.set(1)

        from gpu_node.worker import Worker

        worker = Worker(
            state=state,
            queues=queues,
            results=ResultStore(s3=clients.s3, bucket=settings.results_bucket),
            backend=backend,
            reporter=reporter,
            metrics=metrics,
            identity=identity,
            fleet=settings.fleet,
            gpu_lock=gpu_lock,
            progress_event_seconds=settings.progress_event_seconds,
        )
        worker_thread = threading.Thread(target=worker.run, name="worker", daemon=True)
        # A notice that came while the model loaded: the worker must not start at all.
        if not state.draining.is_set():
            worker_thread.start()
        else:
            state.worker_stopped.set()
        while not drain.finished.wait(0.5):
            worker_died = worker_thread.ident is not None and not worker_thread.is_alive()
            if worker_died and not state.draining.is_set():
                log.error("worker stopped without a drain; exiting for a restart")
                return 1
        log.info("drained; exiting")
        return 0
    finally:
        watcher.stop()
        health.stop()
        imds.close()


def _publisher(settings: NodeSettings, clients: AwsClients) -> EventPublisher:
    if settings.events_topic_arn:
        return SnsPublisher(sns=clients.sns, topic_arn=settings.events_topic_arn)
    return NullPublisher()


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
        now = datetime.now(UTC)
        name = signal.Signals(signum).name
        # One id per process: a second SIGTERM is the same notice, not a second drain.
        drain.notify(
            InterruptionNotice(
                kind=NoticeKind.SIGTERM,
                id=notice_id(NoticeKind.SIGTERM, "signal"),
                observed_at=now,
                deadline=None,
                detail=f"{name} received",
            )
        )

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
