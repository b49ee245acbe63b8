"""The embedded default's preparation, before anything runs: the declared fleet read from the
stack file, a fresh output folder, the tiny model the nodes load, the daemon's settings
compressed like the market, and the market's first days written into a new history with the
model trained on them.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

import yaml

from reconciler.core.errors import DemoError
from reconciler.core.history.ledger import Ledger
from reconciler.core.settings import (
    Cadences,
    DaemonSettings,
    FleetTarget,
    SafetySettings,
    ScalingSettings,
)
from reconciler.decide.signal_model import train_prior
from reconciler.embedded.clock import MarketClock
from reconciler.embedded.replay import (
    ReplayedMarket,
    load_market,
    record_prices,
    record_seed_scores,
    seed_series,
)
from reconciler.embedded.settings import DemoSettings
from reconciler.embedded.world import LiveStatus
from stacks.spec import FleetSpec, parse_fleets

__all__ = [
    "DemoError",
    "Reporter",
    "Seeded",
    "daemon_settings",
    "fresh_out",
    "make_tiny_model",
    "read_stack",
    "seed",
    "train",
]


class Reporter(Protocol):
    def stage(self, text: str) -> None: ...
    def training(self, done: int, total: int) -> None: ...
    def live(self, status: LiveStatus) -> None: ...


def read_stack(path: Path) -> tuple[str, tuple[FleetSpec, ...]]:
    if not path.is_file():
        raise DemoError(f"no stack file at {path}; pass --stack-file (e.g. Pulumi.demo.yaml)")
    config = (yaml.safe_load(path.read_text()) or {}).get("config") or {}
    region = config.get("aws:region")
    if not isinstance(region, str):
        raise DemoError(f"{path}: config has no aws:region")
    return region, tuple(parse_fleets(config.get("spotfleet:fleets")))


def daemon_settings(
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
        advisor_source=str(s.data / "spot-advisor-data.json"),
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


def make_tiny_model(path: Path, log_path: Path) -> None:
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


def fresh_out(out: Path) -> None:
    """A run starts a new history: the old run's files go, the tiny model stays (it is slow
    to build and never changes)."""
    out.mkdir(parents=True, exist_ok=True)
    for name in ("history.duckdb", "history.duckdb.wal", "export", "model", "logs", "daemon.lease"):
        path = out / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()


@dataclass(frozen=True)
class Seeded:
    market: ReplayedMarket
    zone_of_subnet: dict[str, str]
    seed_ticks: int
    start_at: datetime  # market time when the live part starts
    score_target: int  # the fleet's max_nodes: what its placement-score request asks


def seed(
    s: DemoSettings, ledger: Ledger, region: str, spec: FleetSpec, reporter: Reporter
) -> Seeded:
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
    return Seeded(
        market,
        dict(zip(spec.subnet_ids, zones, strict=False)),
        seed_ticks,
        market.at(seed_ticks),
        spec.max_nodes,
    )


def train(s: DemoSettings, ledger: Ledger, seeded: Seeded, reporter: Reporter) -> None:
    """The prior the daemon starts with, fitted on every pool's seeded days of the public
    traces (outside the history, which holds only what AWS would give)."""
    reporter.stage("training the interruption model on them")
    model = train_prior(
        seed_series(seeded.market, seeded.seed_ticks),
        score_every_s=seeded.market.gap_s,  # the demo's collector scores every tick
        score_target=seeded.score_target,
        on_iteration=reporter.training,
    )
    model.save(s.out / "model")
