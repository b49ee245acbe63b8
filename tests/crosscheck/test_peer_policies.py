"""The backtest's peer policies against REPLAY.md's text written again (``replay_peers``):
every figure of every peer must agree, on the public traces and on random ones."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from .replay_peers import PEERS
from .replay_reference import load, run
from .test_reference_policies import assert_agree, backtest


@pytest.mark.parametrize(
    ("collection", "accelerator", "k", "start_day", "end_day"),
    [
        ("availability/1-node/aws-02-15-2023", None, 4, 20, 30),
        ("availability/1-node/aws-02-15-2023", None, 2, 20, 25),
        ("availability/1-node/aws-10-26-2022", "v100_1", 2, 14, None),
        ("preemption/1-node/aws-04-22-2023", None, 2, 5, 6.5),
    ],
)
def test_peers_on_the_public_traces(
    public_data: Path,
    tmp_path: Path,
    collection: str,
    accelerator: str | None,
    k: int,
    start_day: float,
    end_day: float | None,
) -> None:
    folder = public_data / "spot-traces" / collection
    prices = public_data / "replay-prices.json"
    theirs = backtest(
        folder,
        prices,
        tmp_path / "out.json",
        k=k,
        start_day=start_day,
        end_day=end_day,
        policies=PEERS,
        accelerator=accelerator,
    )
    replay = load(
        folder, prices, k=k, start_day=start_day, end_day=end_day, accelerator=accelerator
    )
    for policy in PEERS:
        assert_agree(theirs, run(replay, policy))


@pytest.mark.parametrize("seed", range(6))
def test_peers_on_random_multi_node_traces_with_zone_prices(
    public_data: Path, tmp_path: Path, seed: int
) -> None:
    """Pools of up to three nodes, zone prices that differ (and tie), gaps around Karpenter's
    180 s, odd cold starts: losses, the cheapest pool and its ties are all exercised."""
    rng = random.Random(seed)
    folder = tmp_path / "aws-01-02-2024"
    folder.mkdir()
    gap = rng.choice([30, 60, 90, 120, 179, 181, 600])
    length = rng.randint(60, 120)
    zones = rng.sample(
        ["us-east-1a", "us-east-1b", "us-east-1c", "us-west-2a", "us-west-2b", "us-west-2c"],
        rng.randint(1, 6),
    )
    for zone in zones:
        data, value = [], rng.randint(0, 3)
        for _ in range(length + rng.randint(0, 5)):
            if rng.random() < 0.2:
                value = rng.randint(0, 3)
            data.append(value)
        (folder / f"{zone}_v100_1.json").write_text(
            json.dumps({"metadata": {"gap_seconds": gap}, "data": data})
        )
    table = json.loads((public_data / "replay-prices.json").read_text())
    table["zones"] = {z: {"v100_1": rng.choice([0.7, 0.918, 1.1])} for z in zones[::2]}
    prices = tmp_path / "replay-prices.json"
    prices.write_text(json.dumps(table))
    k, cold, start = rng.randint(1, 5), rng.choice([0, 100, 240, 500]), rng.choice([0, 0.01])
    theirs = backtest(
        folder, prices, tmp_path / "out.json", k=k, start_day=start, cold_start=cold, policies=PEERS
    )
    replay = load(folder, prices, k=k, start_day=start, end_day=None, cold_start=cold)
    for policy in PEERS:
        assert_agree(theirs, run(replay, policy))
