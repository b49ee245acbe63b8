"""The embedded default: the whole system on one machine, no AWS account.

Setup writes the market's first days into a new history and trains the model on them; then
AWS comes up locally (moto's server) with the declared fleet's resources, the daemon starts in
``local`` mode over the fleet's local Auto Scaling groups (one per pool, and on-demand), and
the loop plays the market: every tick moves capacity (nodes get the two-minute notice, AWS's
event goes on the bus), the groups launch and retire node processes, and jobs arrive at a
steady rate. At the end the queues are given ``drain_s`` to empty, everything stops, and
every job is accounted for.

Nothing outlives ``run_demo``: every process and thread it starts is stopped on the way out,
whether it ends, fails or is interrupted (``stop``).
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import math
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import yaml

from analytics.store import open_history
from gpu_node.localimds import LocalImds
from reconciler.actuate.shadow import ShadowActuator
from reconciler.api.app import SourceHolder
from reconciler.api.source import DaemonSource, StandbySource
from reconciler.collect.fleet import read_backlog
from reconciler.core.aws import Clients
from reconciler.core.history.ledger import Ledger
from reconciler.core.settings import (
    Cadences,
    DaemonSettings,
    FleetTarget,
    SafetySettings,
    ScalingSettings,
)
from reconciler.daemon.command import serve_api
from reconciler.daemon.daemon import Daemon
from reconciler.decide.signal_model import train_prior
from reconciler.embedded.audit import audit_jobs, dead_letters, result_ids
from reconciler.embedded.aws_api import (
    LocalAutoScalingClient,
    LocalEc2Client,
    LocalRegion,
    LocalStackActuator,
)
from reconciler.embedded.clock import MarketClock
from reconciler.embedded.cloud import LocalCloud
from reconciler.embedded.fleet_groups import local_fleet
from reconciler.embedded.local_aws import create_fleet, local_aws
from reconciler.embedded.nodes import NodeProcesses
from reconciler.embedded.parity import replay_demo_window
from reconciler.embedded.replay import (
    ReplayedMarket,
    load_market,
    record_prices,
    record_seed_scores,
    seed_series,
)
from reconciler.embedded.settings import DemoSettings
from reconciler.embedded.summary import DemoSummary, summarise, typical_k
from reconciler.embedded.world import LiveStatus, World, completed_jobs
from stacks.layout import fleet_layout
from stacks.naming import AwsAccount, default_prefix
from stacks.spec import FleetSpec, parse_fleets

__all__ = ["DemoError", "DemoSummary", "Reporter", "run_demo"]  # DemoSummary: summary.py

log = logging.getLogger(__name__)

_ACCOUNT = "123456789012"  # moto's account


class DemoError(Exception):
    """The demo cannot run as asked (bad settings, missing data); says what to change."""


class Reporter(Protocol):
    def stage(self, text: str) -> None: ...
    def training(self, done: int, total: int) -> None: ...
    def live(self, status: LiveStatus) -> None: ...


def _read_stack(path: Path) -> tuple[str, tuple[FleetSpec, ...]]:
    if not path.is_file():
        raise DemoError(f"no stack file at {path}; pass --stack-file (e.g. Pulumi.demo.yaml)")
    config = (yaml.safe_load(path.read_text()) or {}).get("config") or {}
    region = config.get("aws:region")
    if not isinstance(region, str):
        raise DemoError(f"{path}: config has no aws:region")
    return region, tuple(parse_fleets(config.get("spotfleet:fleets")))


def _daemon_settings(
    s: DemoSettings, fleet: FleetTarget, clock: MarketClock, api_port: int
) -> DaemonSettings:
    """The daemon's own defaults, with its schedule compressed like the market: cadences are
    wall seconds (the scheduler's), safety windows market seconds (the daemon's clock)."""
    return DaemonSettings(
        history_path=s.out / "history.duckdb",
        lease_path=s.out / "daemon.lease",
        export_dir=s.out / "export",
        model_path=s.out / "model",
        mode="local",
        api_host="127.0.0.1",
        api_port=api_port,
        grid_s=clock.gap_s,
        cold_start_s=s.cold_start_s,
        capacity_from_prices=False,
        fleets=(fleet,),
        cadences=Cadences(
            prices_s=2.0,
            placement_scores_s=1.0,  # every trace tick: the market is known each tick
            interruptions_s=0.25,
            job_events_s=1.0,
            fleet_s=1.0,
            reconcile_s=2.0,
            stack_sync_s=10.0,
            retrain_s=max(s.duration_s / 2, 30.0),
            export_s=30.0,
        ),
        # Job durations are wall seconds (the nodes measure them): a backlog of more than
        # ten seconds of work per node asks for more nodes.
        scaling=ScalingSettings(acceptable_latency_s=10.0, default_seconds_per_job=0.5),
        # The spot notice here is longer than AWS's two minutes (notice_min_wall_s of wall
        # time): a warning acts until the node is really taken, not only for two minutes.
        safety=SafetySettings(
            event_grace_s=max(0.0, s.notice_min_wall_s * clock.compression - 120.0)
        ),
    )


def _make_tiny_model(path: Path, log_path: Path) -> None:
    if (path / "model_index.json").exists():
        return
    with log_path.open("ab") as out:
        done = subprocess.run(
            [sys.executable, "-m", "gpu_node", "make-tiny-model", str(path)],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C is the demo's to handle, not the child's
            check=False,
        )
    if done.returncode != 0:
        raise DemoError(f"could not build the tiny model (see {log_path})")


def _fresh_out(out: Path) -> None:
    """A run starts a new history: the old run's files go, the tiny model stays (it is slow
    to build and never changes)."""
    out.mkdir(parents=True, exist_ok=True)
    for name in ("history.duckdb", "history.duckdb.wal", "export", "model", "logs", "daemon.lease"):
        path = out / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()


@contextlib.contextmanager
def _stopping(what: str, stop: Callable[[], object]) -> Iterator[None]:
    try:
        yield
    finally:
        try:
            stop()
        except Exception:
            log.exception("could not stop %s", what)


@dataclass(frozen=True)
class _Seeded:
    market: ReplayedMarket
    zone_of_subnet: dict[str, str]
    seed_ticks: int
    start_at: datetime  # market time when the live part starts
    score_target: int  # the fleet's max_nodes: what its placement-score request asks


def _seed(
    s: DemoSettings, ledger: Ledger, region: str, spec: FleetSpec, reporter: Reporter
) -> _Seeded:
    """The market from the public data; its first days into the history."""
    reporter.stage("reading the public market data into a new history")
    market = load_market(
        ledger.history, s.data, collection=s.collection, capacity_per_unit=s.capacity_per_unit
    )
    zones = sorted({p.pool.zone for p in market.in_region(region)})
    if len(zones) < len(spec.subnet_ids):
        raise DemoError(
            f"the traces cover {len(zones)} zones of {region} ({', '.join(zones) or 'none'}) "
            f"but fleet {spec.name} has {len(spec.subnet_ids)} subnets; the embedded default "
            "puts one subnet per zone"
        )
    seed_ticks = int(s.seed_days * 86400 / market.gap_s)
    if seed_ticks + 2 >= market.ticks:
        raise DemoError(
            f"--seed-days {s.seed_days:g} leaves no trace to play: the collection holds "
            f"{market.ticks * market.gap_s / 86400:.1f} days"
        )
    reporter.stage(
        f"writing the first {s.seed_days:g} days of {market.collection} "
        f"({seed_ticks} ticks of {len(market.pools)} pools) into the history"
    )
    with ledger.writing():
        record_prices(ledger.history, market)
    record_seed_scores(ledger, market, 0, seed_ticks - 1, target=spec.max_nodes)
    return _Seeded(
        market, dict(zip(spec.subnet_ids, zones, strict=False)), seed_ticks,
        market.at(seed_ticks), spec.max_nodes,
    )  # fmt: skip


def _train(s: DemoSettings, ledger: Ledger, seeded: _Seeded, reporter: Reporter) -> None:
    """The model the daemon starts with, fitted on every pool's seeded days."""
    reporter.stage("training the interruption model on them")
    model = train_prior(
        seed_series(seeded.market, seeded.seed_ticks),
        score_every_s=seeded.market.gap_s,  # the demo's collector scores every tick
        score_target=seeded.score_target,
        on_iteration=reporter.training,
    )
    model.save(s.out / "model")


def _play(
    s: DemoSettings, world: World, ledger: Ledger, stop: threading.Event, reporter: Reporter
) -> bool:
    """The live market until the time is up; then the queue's drain. True if cut short."""
    clock, started = world.clock, world.clock.elapsed_s()
    next_report = 0.0
    while not stop.is_set() and clock.elapsed_s() - started < s.duration_s:
        if clock.tick() >= world.market.ticks - 1:
            reporter.stage("the trace has run out: stopping early")
            break
        world.step()
        if clock.elapsed_s() >= next_report:
            next_report = clock.elapsed_s() + 1.0
            reporter.live(world.status("live", completed_jobs(ledger)))
        stop.wait(0.2)
    stopped_early = stop.is_set() or clock.elapsed_s() - started < s.duration_s

    # No new jobs; the fleet finishes what is queued (unless asked to stop now).
    world.submitting = False
    queues = world.endpoints.job_queue_urls
    drain_until = time.monotonic() + s.drain_s
    while (
        not stop.is_set()
        and time.monotonic() < drain_until
        and read_backlog(world.sqs, queues).total
    ):
        world.step()
        reporter.live(world.status("draining", completed_jobs(ledger)))
        stop.wait(0.5)
    return stopped_early


def run_demo(
    settings: DemoSettings, *, stop: threading.Event | None = None, reporter: Reporter
) -> DemoSummary | None:
    """Run the embedded default until ``duration_s`` has passed or ``stop`` is set; None when
    stopped before the market started (nothing ran, so there is nothing to summarise)."""
    stop = stop or threading.Event()
    s = settings
    if importlib.util.find_spec("moto") is None:
        raise DemoError(
            "the embedded default plays AWS with moto's server, which is not installed: "
            "pip install 'spotfleet[embedded]' (make demo installs it)"
        )
    region_name, specs = _read_stack(s.stack_file)
    spec = next((f for f in specs if f.name == s.fleet), None)
    if spec is None:
        raise DemoError(
            f"{s.stack_file} declares no fleet {s.fleet!r} (it has "
            f"{', '.join(f.name for f in specs)}); pass --fleet"
        )
    _fresh_out(s.out)
    logs = s.out / "logs"
    logs.mkdir()
    started = time.monotonic()

    with contextlib.ExitStack() as stack:
        history = open_history(s.out / "history.duckdb")
        stack.callback(history.close)
        ledger = Ledger(history)
        seeded = _seed(s, ledger, region_name, spec, reporter)
        if stop.is_set():
            return None
        _train(s, ledger, seeded, reporter)
        if stop.is_set():
            return None

        reporter.stage(f"building the tiny model and starting AWS locally ({region_name})")
        model_dir = s.out / "tiny-model"
        _make_tiny_model(model_dir, logs / "tiny-model.log")
        aws = stack.enter_context(local_aws(region_name))
        account = AwsAccount(_ACCOUNT, region_name)
        prefix = default_prefix(s.stack_file.stem.removeprefix("Pulumi."))
        endpoints = {
            f.name: create_fleet(aws, fleet_layout(f, prefix=prefix, account=account))
            for f in specs
        }[spec.name]
        nodes = NodeProcesses(
            aws=aws,
            imds=stack.enter_context(LocalImds()),
            endpoints=endpoints,
            fleet=spec.name,
            model_dir=model_dir,
            log_dir=logs,
            extra_env={"SPOTFLEET_POLL_WAIT_SECONDS": "1"},
            keep_warm=s.warm_nodes,
        )
        stack.enter_context(_stopping("the node processes", nodes.stop_all))

        market = seeded.market
        clock = MarketClock(
            start=seeded.start_at,
            gap_s=market.gap_s,
            ticks_per_s=s.ticks_per_s,
            first_tick=seeded.seed_ticks,
        )
        notice = timedelta(seconds=max(120.0, s.notice_min_wall_s * clock.compression))
        cloud = LocalCloud(market=market.in_region(region_name), notice=notice)
        fleet = local_fleet(
            spec,
            prefix=prefix,
            region=region_name,
            zone_of_subnet=seeded.zone_of_subnet,
            cloud=cloud,
            endpoints=endpoints,
            on_demand_prices={p.pool.instance_type: p.on_demand_price for p in market.pools},
            nodes=s.nodes,
        )
        target = fleet.target
        region = LocalRegion(region_name, cloud, {g.name: g for g in fleet.groups}, clock.now)
        fronts: dict[str, Any] = {
            "ec2": LocalEc2Client(region),
            "autoscaling": LocalAutoScalingClient(region),
        }
        daemon_settings = _daemon_settings(s, target, clock, s.api_port)
        daemon = Daemon(
            settings=daemon_settings,
            ledger=ledger,
            actuators={
                "shadow": ShadowActuator(),
                "local": LocalStackActuator(region, {spec.name: target}),
            },
            clients=Clients(lambda service, _: fronts.get(service) or aws.client(service)),
            clock=clock.now,
        )
        world = World(
            settings=s,
            market=market,
            clock=clock,
            region=region,
            groups=fleet.groups,
            demand=lambda: daemon.views[spec.name].desired or 0,
            nodes=nodes,
            ledger=ledger,
            aws=aws,
            endpoints=endpoints,
        )
        planned_end = seeded.seed_ticks + math.ceil(s.duration_s * s.ticks_per_s)

        def replay_planned_window() -> None:
            world.replayed = replay_demo_window(
                market,
                target,
                start=seeded.seed_ticks,
                end=planned_end,
                k=target.min_nodes,
                cold_start_s=s.cold_start_s,
            )

        planned = threading.Thread(target=replay_planned_window, daemon=True)
        planned.start()
        holder = SourceHolder(DaemonSource(daemon, extras=world.extras))
        server = serve_api(holder, daemon_settings)
        # Stopped and joined, and pointed away from the daemon, before the history closes:
        # DuckDB objects still reachable at exit are what nanobind reports as leaked.
        stack.callback(setattr, holder, "source", StandbySource(None))
        stack.callback(server.stop)
        status_url = f"http://127.0.0.1:{_port(server)}/"
        reporter.stage(f"the daemon is up: status page {status_url}")
        if stop.is_set():
            return None

        reporter.stage(f"waiting for {s.warm_nodes} node processes to load their model")
        nodes.wait_warm(timeout_s=120.0)
        # The backtest of the window runs while the nodes load, never beside the live market.
        reporter.stage("replaying the same window as a backtest, for the figures beside the run")
        planned.join()
        clock.begin()
        daemon.start()
        stack.enter_context(_stopping("the daemon", daemon.stop))
        stopped_early = _play(s, world, ledger, stop, reporter)
        end = clock.now()
        daemon.stop()
        # A last pass of the collectors, so the history holds what the fleet did to the end.
        for job in (daemon.consume_job_events, daemon.consume_interruptions, daemon.observe_fleet):
            with contextlib.suppress(Exception):
                job()
        nodes.stop_all()
        daemon.export()

        sqs = aws.client("sqs")
        audit = audit_jobs(
            world.jobs,
            result_ids(aws.client("s3"), endpoints.results_bucket),
            [m for url in endpoints.dead_letter_queue_urls for m in dead_letters(sqs, url)],
            read_backlog(sqs, endpoints.job_queue_urls).total,
        )
        world.write_samples(s.out / "ready.csv")
        k = typical_k(world.counters.k_samples, target.min_nodes)
        replayed = world.replayed
        if replayed is None or stopped_early or k != target.min_nodes:
            # The planned window is not the one played: the backtest of the one played.
            replayed = replay_demo_window(
                market,
                target,
                start=seeded.seed_ticks,
                end=world.tick + 1,
                k=k,
                cold_start_s=s.cold_start_s,
            )
        return summarise(
            s,
            ledger,
            audit,
            world,
            replayed,
            started=started,
            start_at=seeded.start_at,
            end=end,
            stopped_early=stopped_early,
            status_url=status_url,
        )
    raise AssertionError("unreachable")  # pragma: no cover (the with block returns)


def _port(server: Any) -> int:
    for s in server.servers:
        for sock in s.sockets:
            return int(sock.getsockname()[1])
    raise RuntimeError("the status API has no socket")
