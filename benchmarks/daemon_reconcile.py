"""A reconcile cycle for 500 pools with 90 days of history: target < 1 s (issue 5).

Synthetic but shaped like the real thing: one fleet of 500 pools (25 zones x 20 types),
capacity observed and placement scores collected every 5 minutes (the collectors' default
cadence) and prices changing hourly for 90 days, 20 nodes held. A cycle is the whole
``Reconciler.reconcile``: read the fleet's signals from DuckDB, features,
predictions, planner, guards, and the writes of the decision, actions and predictions.
Run: ``.venv/bin/python -m benchmarks.daemon_reconcile``.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from analytics.pools import Pool
from analytics.store import open_history
from benchmarks.analytics_history import TYPES  # the same 20 g5/g6 types
from reconciler.actuate.groups import AutoScalingGroups
from reconciler.actuate.shadow import ShadowActuator
from reconciler.core.history.fleet_signals import read_signals
from reconciler.core.history.ledger import Ledger
from reconciler.core.settings import DaemonSettings, FleetTarget
from reconciler.daemon.breaker import Breaker
from reconciler.daemon.cycle import Reconciler
from reconciler.daemon.scaling import ScaleDecision
from reconciler.embedded.autoscaling import LocalAutoScalingGroup
from reconciler.embedded.aws_api import LocalAutoScalingClient, LocalRegion
from reconciler.embedded.cloud import LocalCloud
from reconciler.embedded.market import MarketPool

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
ZONES = [f"us-east-1{chr(ord('a') + i)}" for i in range(25)]


def local_region(fleet: FleetTarget) -> LocalRegion:
    """The fleet's 500 spot groups and its on-demand group in a local cloud with room."""
    pools = [Pool.parse(p) for p in fleet.pools()]
    cloud = LocalCloud([MarketPool(p, np.full(2, 8, dtype=np.int32), 0.5, 1.0, "b") for p in pools])
    groups = {
        fleet.spot_groups[p.name]: LocalAutoScalingGroup(
            name=fleet.spot_groups[p.name], pools=(p,), lifecycle="spot", max_size=40, cloud=cloud
        )
        for p in pools
    }
    groups[fleet.on_demand_group] = LocalAutoScalingGroup(
        name=fleet.on_demand_group, pools=tuple(pools), lifecycle="on-demand", max_size=40,
        cloud=cloud,
    )  # fmt: skip
    return LocalRegion(fleet.region, cloud, groups, lambda: NOW)


def build(path: Path, days: int) -> FleetTarget:
    fleet = FleetTarget(
        name="bench",
        instance_types=tuple(TYPES),
        subnets={z: f"subnet-{i:08x}" for i, z in enumerate(ZONES)},
        max_nodes=40,
        on_demand_prices={t: 1.0 + i / 10 for i, t in enumerate(TYPES)},
    )
    with open_history(path) as h:
        con = h.con
        con.execute(
            "CREATE TEMP TABLE p AS SELECT * FROM (VALUES "
            + ", ".join(f"('us-east-1/{z}/{t}', '{z}', '{t}')" for z in ZONES for t in TYPES)
            + ") v(pool, zone, itype)"
        )
        con.execute(
            "INSERT INTO pools (pool, region, zone, instance_type) "
            "SELECT pool, 'us-east-1', zone, itype FROM p"
        )
        con.execute(
            "INSERT INTO capacity_observations SELECT pool, ts, "
            "CAST(greatest(0, 8 + 6 * sin(hash(pool) % 97 + epoch(ts) / 86400.0)) AS INTEGER), "
            "300, 'bench' FROM p, range(?::TIMESTAMP - INTERVAL (?) DAY, ?::TIMESTAMP, "
            "INTERVAL 5 MINUTE) r(ts)",
            [NOW.replace(tzinfo=None), days, NOW.replace(tzinfo=None)],
        )
        # What a fleet sees of the same capacity: a placement score per pool every 5 minutes
        # for the fleet's request (max_nodes), scored as the embedded EC2 scores.
        con.execute(
            "INSERT INTO placement_scores SELECT 'us-east-1', zone, 'use1-' || zone, itype, ?, "
            "least(10, 1 + round(9 * greatest(0, 8 + 6 * sin(hash(pool) % 97 "
            "+ epoch(ts) / 86400.0)) / ?)), ts, 'bench' FROM p, "
            "range(?::TIMESTAMP - INTERVAL (?) DAY, ?::TIMESTAMP, INTERVAL 5 MINUTE) r(ts)",
            [
                fleet.max_nodes,
                fleet.max_nodes,
                NOW.replace(tzinfo=None),
                days,
                NOW.replace(tzinfo=None),
            ],
        )
        con.execute(
            "INSERT INTO spot_prices (region, zone, instance_type, product, ts, price, source) "
            "SELECT 'us-east-1', zone, itype, 'Linux/UNIX', ts, "
            "0.3 + (hash(pool || ts::VARCHAR) % 1000) / 2000.0, 'bench' FROM p, "
            "range(?::TIMESTAMP - INTERVAL (?) DAY, ?::TIMESTAMP, INTERVAL 1 HOUR) r(ts)",
            [NOW.replace(tzinfo=None), days, NOW.replace(tzinfo=None)],
        )
        con.executemany(
            "INSERT INTO on_demand_prices VALUES ('us-east-1', ?, 'Linux', '2000-01-01', ?, 'b')",
            list(fleet.on_demand_prices.items()),
        )
        con.executemany(
            "INSERT INTO nodes (instance_id, fleet, pool, lifecycle, state, launched_at, "
            "observed_at) VALUES (?, 'bench', ?, 'spot', 'InService', ?, ?)",
            [
                (
                    f"i-{i:04d}",
                    f"us-east-1/{ZONES[i % 25]}/{TYPES[i % 20]}",
                    NOW.replace(tzinfo=None),
                    NOW.replace(tzinfo=None),
                )
                for i in range(20)
            ],
        )
    return fleet


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args([])
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "history.duckdb"
        started = time.perf_counter()
        fleet = build(path, args.days)
        print(f"built {args.days} days x 500 pools in {time.perf_counter() - started:.1f} s")
        for lookback_days in (7, args.days):
            settings = DaemonSettings(fleets=(fleet,), lookback_s=lookback_days * 86400.0)
            with open_history(path) as h:
                ledger = Ledger(h)
                region = local_region(fleet)
                reconciler = Reconciler(
                    ledger=ledger,
                    settings=settings,
                    actuators={"shadow": ShadowActuator(), "pulumi": ShadowActuator()},
                    breaker=Breaker(ledger, threshold=3),
                    clock=lambda: NOW,
                    # Acting, so the timing includes the guards, the groups' targets and the
                    # Auto Scaling calls (to local groups over 500 pools, AWS's semantics).
                    mode=lambda: "pulumi",
                    executor=lambda f, region=region: AutoScalingGroups(  # type: ignore[misc]
                        LocalAutoScalingClient(region), f, cold_start_s=300.0, settle_s=0.0
                    ),
                    demand=lambda _f, _now: ScaleDecision(8, "bench: K=8"),
                )
                reconciler.reconcile(fleet)  # warm: imports, caches
                times = []
                for _ in range(args.runs):
                    t = time.perf_counter()
                    decision = reconciler.reconcile(fleet)
                    times.append(time.perf_counter() - t)
                assert decision.placement is not None, decision.reason
                reads = []
                for _ in range(args.runs):
                    t = time.perf_counter()
                    read_signals(
                        h.con,
                        until=NOW,
                        lookback_s=settings.lookback_s,
                        pools=fleet.pools(),
                        interval_s=settings.grid_s,
                    )
                    reads.append(time.perf_counter() - t)
            print(
                f"reconcile, 500 pools, reading {lookback_days} of {args.days} days: "
                f"median {statistics.median(times):.3f} s, max {max(times):.3f} s "
                f"(target < 1 s); of which the signals' read (read_signals) alone: median "
                f"{statistics.median(reads):.3f} s"
            )


if __name__ == "__main__":
    main()
