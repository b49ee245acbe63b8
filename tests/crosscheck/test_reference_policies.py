"""The backtest's reference policies against an independent implementation of REPLAY.md
(``replay_reference``): every figure of every reference policy must agree."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest

from .replay_reference import load, run

REFERENCE = ("on_demand", "single_pool", "even_spread", "spread_with_fallback")


def backtest(
    folder: Path,
    prices: Path,
    out: Path,
    *,
    k: int,
    start_day: float,
    end_day: float | None = None,
    cold_start: float = 300,
    policies: tuple[str, ...] = REFERENCE,
    accelerator: str | None = None,
) -> dict[str, dict]:
    args = [
        sys.executable,
        "-m",
        "reconciler",
        "backtest",
        "--traces",
        str(folder),
        "--prices",
        str(prices),
        "--k",
        str(k),
        "--start-day",
        str(start_day),
        "--cold-start",
        str(cold_start),
        "--json",
        str(out),
    ]
    if end_day is not None:
        args += ["--end-day", str(end_day)]
    if accelerator is not None:
        args += ["--accelerator", accelerator]
    for policy in policies:
        args += ["--policy", policy]
    subprocess.run(args, check=True, capture_output=True, text=True)
    return {r["policy"]: r for r in json.loads(out.read_text())}


def assert_agree(theirs: dict[str, dict], mine: dict[str, object]) -> None:
    policy = theirs[str(mine["policy"])]
    assert set(policy) == set(mine)
    for key, value in mine.items():
        if isinstance(value, float):
            assert policy[key] == pytest.approx(value, rel=1e-9, abs=1e-9), (mine["policy"], key)
        else:
            assert policy[key] == value, (mine["policy"], key)


@pytest.mark.parametrize("k", [4, 2])
def test_reference_policies_on_the_public_traces(public_data: Path, tmp_path: Path, k: int) -> None:
    folder = public_data / "spot-traces" / "availability" / "1-node" / "aws-02-15-2023"
    prices = public_data / "replay-prices.json"
    theirs = backtest(folder, prices, tmp_path / "out.json", k=k, start_day=20, end_day=30)
    replay = load(folder, prices, k=k, start_day=20, end_day=30)
    for policy in REFERENCE:
        assert_agree(theirs, run(replay, policy))


@pytest.mark.parametrize("seed", range(4))
def test_reference_policies_on_random_multi_node_traces(
    public_data: Path, tmp_path: Path, seed: int
) -> None:
    """Pools holding up to three nodes (the public traces hold one), unequal trace lengths,
    odd cold starts: preemption order, free slots and cutting are all exercised."""
    rng = random.Random(seed)
    folder = tmp_path / "aws-01-02-2024"
    folder.mkdir()
    length = rng.randint(40, 80)
    for zone in rng.sample(
        ["us-east-1a", "us-east-1b", "us-east-1c", "us-west-2a", "us-west-2b"], rng.randint(2, 5)
    ):
        data, value = [], rng.randint(0, 3)
        for _ in range(length + rng.randint(0, 5)):
            if rng.random() < 0.25:
                value = rng.randint(0, 3)
            data.append(value)
        (folder / f"{zone}_v100_1.json").write_text(
            json.dumps({"metadata": {"gap_seconds": 120}, "data": data})
        )
    k, cold, start = rng.randint(1, 6), rng.choice([0, 100, 240, 500]), rng.choice([0, 0.01, 0.02])
    prices = public_data / "replay-prices.json"
    theirs = backtest(folder, prices, tmp_path / "out.json", k=k, start_day=start, cold_start=cold)
    replay = load(folder, prices, k=k, start_day=start, end_day=None, cold_start=cold)
    for policy in REFERENCE:
        assert_agree(theirs, run(replay, policy))
