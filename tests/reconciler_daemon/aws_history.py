"""A month of history as a daemon on AWS collects it: no capacity traces.

What AWS shows a running fleet, written through the history's own ingest: spot prices as
DescribeSpotPriceHistory pages (the shape of botocore's example,
tests/fixtures/prices/describe-spot-price-history-vpc.json), the fleet's nodes, the capacity
the price collector records for a pool offered a price (the fleet's maximum, source
``observed:price``, every collection, as ``reconciler.collect.prices`` writes it), and spot
interruption warnings: aws-node-termination-handler's example envelope
(tests/fixtures/events/spot-interruption-warning.json) with its id, time and instance changed
to one of the fleet's nodes, parsed by ``analytics.events.parse_envelope``.
"""

from __future__ import annotations

import copy
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa

from analytics.events import parse_envelope
from analytics.ingest.events import record_events
from analytics.ingest.prices import ingest_spot_price_pages
from analytics.store import History
from reconciler.collect.prices import record_on_demand
from reconciler.core.history.ledger import Ledger
from reconciler.core.settings import FleetTarget

from .conftest import fleet_groups

FIXTURES = Path(__file__).parent.parent / "fixtures"
ZONES = ("us-east-1a", "us-east-1b", "us-east-1c")
TYPES = ("g5.xlarge", "g5.2xlarge")
ON_DEMAND = {"g5.xlarge": 1.006, "g5.2xlarge": 1.212}
START = datetime(2026, 10, 1, tzinfo=UTC)
DAYS = 30
END = START + timedelta(days=DAYS)
GRID_S = 600


@dataclass(frozen=True)
class AwsHistory:
    pools: tuple[str, ...]
    warnings: int
    end: datetime


def fleet_kwargs(name: str = "gen") -> dict[str, object]:
    return {
        "name": name,
        "instance_types": TYPES,
        "subnets": {z: f"subnet-0aaa000{i}" for i, z in enumerate(ZONES)},
        "max_nodes": 4,
        "on_demand_prices": ON_DEMAND,
        **fleet_groups(name, ZONES, TYPES),
    }


def _naive(ts: datetime) -> datetime:
    return ts.astimezone(UTC).replace(tzinfo=None)


def write_aws_history(history: History, *, warnings: int = 60, seed: int = 7) -> AwsHistory:
    """Prices every hour, capacity 'observed:price' every grid tick, one node per pool
    relaunched after each warning, and ``warnings`` spot interruption warnings: most in two
    pools, which are also the ones whose price runs hot, as a tight pool's does."""
    rng = np.random.default_rng(seed)
    pools = tuple(f"us-east-1/{z}/{t}" for t in TYPES for z in ZONES)
    risky = {pools[0]: 0.45, pools[4]: 0.35}  # share of the warnings; the rest spread thin
    hours = DAYS * 24
    records = []
    for pool in pools:
        _, zone, itype = pool.split("/")
        base = ON_DEMAND[itype] * (0.55 if pool in risky else 0.35)
        walk = np.cumsum(rng.normal(0, 0.01, hours))
        for h in range(hours):
            price = max(0.05, base * (1 + walk[h]))
            records.append(
                {
                    "AvailabilityZone": zone,
                    "InstanceType": itype,
                    "ProductDescription": "Linux/UNIX (Amazon VPC)",
                    "SpotPrice": f"{price:.6f}",
                    "Timestamp": (START + timedelta(hours=h)).isoformat().replace("+00:00", "Z"),
                }
            )
    ingest_spot_price_pages(history, [{"SpotPriceHistory": records}], source="aws:us-east-1")

    con = history.con
    ticks = [_naive(START + timedelta(seconds=i * GRID_S)) for i in range(DAYS * 86400 // GRID_S)]
    observed = pa.table(
        {
            "pool": [pool for _ in ticks for pool in pools],
            "ts": pa.array([ts for ts in ticks for _ in pools], pa.timestamp("us")),
            "capacity": pa.array([4] * (len(ticks) * len(pools)), pa.int32()),
            "interval_s": pa.array([GRID_S] * (len(ticks) * len(pools)), pa.int32()),
            "source": ["observed:price"] * (len(ticks) * len(pools)),
        }
    )
    con.register("_observed", observed)
    con.execute("INSERT INTO capacity_observations SELECT * FROM _observed")
    con.unregister("_observed")
    record_on_demand(Ledger(history), FleetTarget(**fleet_kwargs()))  # type: ignore[arg-type]

    shares = np.array([risky.get(p, 0.0) for p in pools])
    rest = 1.0 - shares.sum()
    shares[shares == 0] = rest / int((shares == 0).sum())
    warned_pools = rng.choice(len(pools), size=warnings, p=shares)
    # Spread over days 1..30, so the last days (scored, never fitted) hold some too.
    times = np.sort(rng.uniform(1 * 86400, DAYS * 86400 - 3600, size=warnings))
    template = json.loads((FIXTURES / "events" / "spot-interruption-warning.json").read_text())
    nodes, events = [], []
    for n, (i, offset) in enumerate(zip(warned_pools, times, strict=True)):
        pool = pools[int(i)]
        instance = f"i-0{n:016x}"
        at = START + timedelta(seconds=float(offset))
        nodes.append(
            (instance, "gen", pool, "spot", "terminated", _naive(at - timedelta(hours=5)),
             _naive(at + timedelta(minutes=2)), _naive(at))
        )  # fmt: skip
        envelope = copy.deepcopy(template)
        envelope["id"] = str(uuid.UUID(int=int(rng.integers(0, 2**63)) << 64 | n))
        envelope["time"] = at.isoformat().replace("+00:00", "Z")
        envelope["resources"] = [f"arn:aws:ec2:{pool.split('/')[1]}:instance/{instance}"]
        envelope["detail"]["instance-id"] = instance
        events.extend(parse_envelope(envelope))
    con.executemany(
        "INSERT INTO nodes (instance_id, fleet, pool, lifecycle, state, launched_at, "
        "terminated_at, observed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        nodes,
    )
    record_events(history, events)
    return AwsHistory(pools=pools, warnings=len(events), end=END)
