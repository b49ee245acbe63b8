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
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

from analytics.store import open_history
from gpu_node.localimds import LocalImds
from reconciler.actuate.shadow import ShadowActuator
from reconciler.api.app import SourceHolder
from reconciler.api.source import DaemonSource, StandbySource
from reconciler.collect.fleet import read_backlog
from reconciler.core.aws import Clients
from reconciler.core.history.ledger import Ledger
from reconciler.daemon.api_server import serve_api
from reconciler.daemon.builder import build_daemon
from reconciler.daemon.stack_fleets import node_bounds
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
from reconciler.embedded.preparing import (
    DemoError,
    Reporter,
    daemon_settings,
    fresh_out,
    make_tiny_model,
    read_stack,
    seed,
    train,
)
from reconciler.embedded.pricing_api import local_pricing_api
from reconciler.embedded.settings import DemoSettings
from reconciler.embedded.summary import DemoSummary, summarise_run
from reconciler.embedded.world import World, completed_jobs
from stacks.layout import fleet_layout
from stacks.naming import AwsAccount, default_prefix

# DemoError, Reporter: preparing.py; DemoSummary: summary.py
__all__ = ["DemoError", "DemoSummary", "Reporter", "run_demo"]

log = logging.getLogger(__name__)

_ACCOUNT = "123456789012"  # moto's account


@contextlib.contextmanager
def _stopping(what: str, stop: Callable[[], object]) -> Iterator[None]:
    try:
        yield
    finally:
        try:
            stop()
        except Exception:
            log.exception("could not stop %s", what)


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
    region_name, specs = read_stack(s.stack_file)
    spec = next((f for f in specs if f.name == s.fleet), None)
    if spec is None:
        raise DemoError(
            f"{s.stack_file} declares no fleet {s.fleet!r} (it has "
            f"{', '.join(f.name for f in specs)}); pass --fleet"
        )
    fresh_out(s.out)
    logs = s.out / "logs"
    logs.mkdir()
    started = time.monotonic()

    with contextlib.ExitStack() as stack:
        history = open_history(s.out / "history.duckdb")
        stack.callback(history.close)
        ledger = Ledger(history)
        seeded = seed(s, ledger, region_name, spec, reporter)
        if stop.is_set():
            return None
        train(s, ledger, seeded, reporter)
        if stop.is_set():
            return None

        reporter.stage(f"building the tiny model and starting AWS locally ({region_name})")
        model_dir = s.out / "tiny-model"
        make_tiny_model(model_dir, logs / "tiny-model.log")
        aws = stack.enter_context(local_aws(region_name))
        account = AwsAccount(_ACCOUNT, region_name)
        prefix = default_prefix(s.stack_file.stem.removeprefix("Pulumi."))
        endpoints = {
            f.name: create_fleet(aws, fleet_layout(f, prefix=prefix, account=account))
            for f in specs
        }[spec.name]
        # As many processes loaded and waiting as the fleet can launch in one burst: one
        # started at a launch takes tens of wall seconds, most of a market hour.
        warm_nodes = s.warm_nodes if s.warm_nodes is not None else node_bounds(spec, s.nodes)[1]
        nodes = NodeProcesses(
            aws=aws,
            imds=stack.enter_context(LocalImds()),
            endpoints=endpoints,
            fleet=spec.name,
            model_dir=model_dir,
            log_dir=logs,
            extra_env={"SPOTFLEET_POLL_WAIT_SECONDS": "1"},
            keep_warm=warm_nodes,
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
            "pricing": stack.enter_context(local_pricing_api()).client(region_name),
        }
        settings_of_daemon = daemon_settings(s, target, clock, s.api_port)
        daemon = build_daemon(
            settings_of_daemon,
            ledger,
            clock=clock.now,
            clients=Clients(lambda service, _: fronts.get(service) or aws.client(service)),
            actuators={
                "shadow": ShadowActuator(),
                "local": LocalStackActuator(region, {spec.name: target}),
            },
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
        server = serve_api(holder, settings_of_daemon)
        # Stopped and joined, and pointed away from the daemon, before the history closes:
        # DuckDB objects still reachable at exit are what nanobind reports as leaked.
        stack.callback(setattr, holder, "source", StandbySource(None))
        stack.callback(server.stop)
        status_url = f"http://127.0.0.1:{_port(server)}/"
        reporter.stage(f"the daemon is up: status page {status_url}")
        if stop.is_set():
            return None

        reporter.stage(f"waiting for {warm_nodes} node processes to load their model")
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

        return summarise_run(
            s,
            ledger,
            world,
            aws,
            endpoints,
            target,
            first_tick=seeded.seed_ticks,
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
