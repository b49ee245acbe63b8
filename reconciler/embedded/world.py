"""The demo's loop side: each step moves the market a tick, lets the group launch and retire
node processes, reaps them, and submits the jobs that are due; it also reports what it sees.

Everything here runs on the demo's loop thread except ``extras`` and ``jobs_so_far``, which the
status API calls from its own thread (with their own clients).
"""

from __future__ import annotations

import contextlib
import logging
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from reconciler.collect.fleet import read_backlog
from reconciler.core.history.jobs import completed_jobs
from reconciler.core.history.ledger import Ledger
from reconciler.embedded.audit import result_ids
from reconciler.embedded.autoscaling import Activity, LocalAutoScalingGroup
from reconciler.embedded.aws_api import LocalRegion
from reconciler.embedded.clock import MarketClock
from reconciler.embedded.cloud import Instance, LocalCloud
from reconciler.embedded.local_aws import FleetEndpoints, LocalAws
from reconciler.embedded.nodes import NodeProcesses, NodeSpec
from reconciler.embedded.parity import Replayed
from reconciler.embedded.replay import ReplayedMarket
from reconciler.embedded.settings import DemoSettings
from reconciler.embedded.workload import PlannedJob, jobs_due, plan_jobs, send_jobs

__all__ = ["Counters", "LiveStatus", "World", "completed_jobs", "process_ended_unhealthy"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LiveStatus:
    elapsed_s: float
    duration_s: float
    phase: str  # 'live' or 'draining'
    market_now: datetime
    desired: int
    running: int
    ready: int
    jobs_submitted: int
    jobs_completed: int
    preemptions: int
    launch_failures: int
    spot_cost_usd: float
    on_demand_cost_usd: float


@dataclass
class Counters:
    preemptions: int = 0
    launched: int = 0
    launch_failures: int = 0
    ready: int = 0  # nodes answering healthy at the last sample
    ready_samples: list[float] = field(default_factory=list)
    k_samples: list[int] = field(default_factory=list)  # K (demand) at each sample
    market_samples: list[datetime] = field(default_factory=list)  # market time of each
    failures: deque[str] = field(default_factory=lambda: deque(maxlen=5))


class World:
    """The loop's side of the demo: the market, the group, the node processes, the jobs."""

    def __init__(
        self,
        *,
        settings: DemoSettings,
        market: ReplayedMarket,
        clock: MarketClock,
        region: LocalRegion,
        groups: tuple[LocalAutoScalingGroup, ...],
        demand: Callable[[], int],
        nodes: NodeProcesses,
        ledger: Ledger,
        aws: LocalAws,
        endpoints: FleetEndpoints,
    ) -> None:
        self.s, self.market, self.clock, self.region = settings, market, clock, region
        self.groups, self.demand, self.nodes, self.ledger = groups, demand, nodes, ledger
        self.endpoints = endpoints
        self.sqs = aws.client("sqs")
        self.api_sqs, self.s3 = aws.client("sqs"), aws.client("s3")  # for the API's thread
        self.tick = clock.first_tick
        self.jobs: list[PlannedJob] = []
        self.counters = Counters()
        self._next_sample = 0.0
        self.submitting = True
        # The backtest of the planned window, once computed (shown beside the live figures).
        self.replayed: Replayed | None = None

    @property
    def cloud(self) -> LocalCloud:
        return self.region.cloud

    def step(self) -> None:
        now, tick = self.clock.now(), min(self.clock.tick(), self.market.ticks - 1)
        with self.region.lock:
            if tick > self.tick:
                self.tick = tick
            change = self.cloud.advance(tick, now)
            activity = Activity()
            for group in self.groups:
                done = group.step(now)
                activity.launched += done.launched
                activity.terminated += done.terminated
                activity.failures += done.failures
        wall_notice = datetime.now(UTC) + timedelta(
            seconds=self.clock.wall_s(self.cloud.notice.total_seconds())
        )
        for instance in change.noticed:
            self.counters.preemptions += 1
            self.nodes.interrupt(
                instance.instance_id, instance.pool.zone, deadline=wall_notice, at=now
            )
        for instance in (*change.reclaimed, *activity.terminated):
            self.nodes.terminate(instance.instance_id)
        for instance in activity.launched:
            self.counters.launched += 1
            self.nodes.launch(
                NodeSpec(
                    instance.instance_id, instance.pool, instance.lifecycle, instance.hourly_price
                )
            )
        self.counters.launch_failures += len(activity.failures)
        self.counters.failures.extend(activity.failures)
        for ended in self.nodes.reap():
            instance = self.cloud.instances[ended.spec.instance_id]
            if process_ended_unhealthy(instance):
                log.warning(
                    "node %s exited on its own; the group replaces it", instance.instance_id
                )
                with self.region.lock:
                    self.cloud.terminate(instance.instance_id, now, "unhealthy: process exited")
            elif instance.running:
                log.info("node %s drained on its notice and exited", instance.instance_id)
        if self.submitting:
            self._submit()
        if self.clock.elapsed_s() >= self._next_sample:
            self._next_sample = self.clock.elapsed_s() + 1.0
            self.counters.ready_samples.append(self._ready_fraction())
            self.counters.k_samples.append(self.demand())
            self.counters.market_samples.append(self.clock.now())

    def _submit(self) -> None:
        due = jobs_due(self.clock.elapsed_s(), self.s.jobs_per_minute) - len(self.jobs)
        if due <= 0:
            return
        new = plan_jobs(
            due,
            malformed_every=self.s.malformed_every,
            size=self.s.image_size,
            steps=self.s.steps,
            first=len(self.jobs),
        )
        send_jobs(self.sqs, self.endpoints.job_queue_url, new)
        self.jobs.extend(new)

    def _ready_nodes(self) -> int:
        """Nodes that serve: healthy, and launched at least the cold start ago in market time
        (a node process is started ahead, so its own start-up does not stand for the cold
        start of a g5 at the market's speed)."""
        ready = 0
        started_by = self.clock.now() - timedelta(seconds=self.s.cold_start_s)
        for node in self.nodes.nodes.values():
            instance = self.cloud.instances.get(node.spec.instance_id)
            if instance is None or instance.launched_at > started_by:
                continue
            with contextlib.suppress(httpx.HTTPError):
                health = httpx.get(f"http://127.0.0.1:{node.port}/health", timeout=0.5)
                ready += health.status_code == 200 and health.json().get("status") == "ok"
        return ready

    def _ready_fraction(self) -> float:
        """Ready nodes against K, the nodes demand asks to serve (spares beyond it do not
        count): the backtest's ``mean_ready_fraction``."""
        desired = self.demand()
        self.counters.ready = self._ready_nodes()
        return 1.0 if desired == 0 else min(self.counters.ready, desired) / desired

    def write_samples(self, path: Path) -> None:
        """The ready samples as CSV (market time, ready nodes, K), to set beside the backtest's
        timeline of the same window."""
        c = self.counters
        lines = ["market_time,ready_fraction,k"] + [
            f"{ts.isoformat()},{fraction:.4f},{k}"
            for ts, fraction, k in zip(c.market_samples, c.ready_samples, c.k_samples, strict=False)
        ]
        path.write_text("\n".join(lines) + "\n")

    def costs(self, at: datetime | None = None) -> tuple[float, float]:
        """(what the fleet cost up to ``at`` (default: now), what the same node-hours would
        cost on demand)."""
        now = at or self.clock.now()
        od = {m.pool: m.on_demand_price for m in self.market.pools}
        with self.region.lock:
            instances = list(self.cloud.instances.values())
        spot = sum(i.cost(now) for i in instances)
        on_demand = sum(
            i.cost(now) * od[i.pool] / i.hourly_price for i in instances if i.hourly_price > 0
        )
        return spot, on_demand

    def status(self, phase: str, completed: int) -> LiveStatus:
        spot, on_demand = self.costs()
        return LiveStatus(
            elapsed_s=self.clock.elapsed_s(),
            duration_s=self.s.duration_s,
            phase=phase,
            market_now=self.clock.now(),
            desired=self.demand(),
            running=len(self.nodes.nodes),
            ready=self.counters.ready,
            jobs_submitted=len(self.jobs),
            jobs_completed=completed,
            preemptions=self.counters.preemptions,
            launch_failures=self.counters.launch_failures,
            spot_cost_usd=spot,
            on_demand_cost_usd=on_demand,
        )

    def jobs_so_far(self) -> tuple[int, int, int, int]:
        """(submitted, completed, dead-lettered, lost so far), read in an order that never
        calls a moving job lost: what was submitted first, then the queues (a job leaves them
        only once its result or its dead-letter copy is written), then results and dead letters.
        A job counted twice on its way out makes the loss negative for a moment: floored at 0."""
        jobs = list(self.jobs)
        e = self.endpoints
        in_queues = read_backlog(self.api_sqs, e.job_queue_urls).total
        done = len(result_ids(self.s3, e.results_bucket) & {j.job_id for j in jobs if j.valid})
        dead = read_backlog(self.api_sqs, e.dead_letter_queue_urls).total
        return len(jobs), done, dead, max(len(jobs) - in_queues - done - dead, 0)

    def extras(self) -> dict[str, object]:
        """The status page's "Run" panel."""
        spot, on_demand = self.costs()
        submitted, done, dead, lost = self.jobs_so_far()
        ticks = f"{self.s.ticks_per_s:g} trace tick{'' if self.s.ticks_per_s == 1 else 's'}"
        return {
            "market clock": self.clock.now().strftime("%Y-%m-%d %H:%M UTC"),
            "speed": f"{ticks} per second ({self.clock.compression:.0f}x real time)",
            "jobs submitted": submitted,
            "jobs done": done,
            "jobs dead-lettered": dead,
            "jobs lost": lost,
            "preemptions": self.counters.preemptions,
            "node launches": self.counters.launched,
            "launch failures (no capacity)": self.counters.launch_failures,
            "last launch failure": self.counters.failures[-1] if self.counters.failures else "-",
            "cost so far": f"${spot:.2f} (all on-demand: ${on_demand:.2f})",
            "mean ready fraction so far": f"{self.mean_ready_fraction():.3f}",
            "the backtest of this window": (
                f"ready {self.replayed.ready_fraction:.3f} at cost {self.replayed.cost_ratio:.3f}"
                if self.replayed is not None
                else "being computed"
            ),
        }

    def mean_ready_fraction(self) -> float:
        samples = self.counters.ready_samples
        return sum(samples) / len(samples) if samples else 0.0


def process_ended_unhealthy(instance: Instance) -> bool:
    """A node process that ended under a running instance without a notice died: unhealthy.
    One that drained on its notice and exited is the expected path (the market takes the
    instance when the notice runs out); one whose instance is gone was taken."""
    return instance.running and instance.notice_deadline is None
