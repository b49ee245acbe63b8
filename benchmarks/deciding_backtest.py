"""A full backtest of one 10-day window at K=4: all eleven policies (reference, peers,
planner), model fit included; then the planner and planner_no_model alone, which run the
daemon's acting path (``reconciler.control``) every tick.

    .venv/bin/python -m benchmarks.deciding_backtest [DATA_DIR]

Targets, on availability/1-node/aws-02-15-2023, days 20-30: under 30 s for all policies,
under 60 s for the executed planner pair.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from pathlib import Path

from reconciler.replay.backtest import POLICY_NAMES, BacktestConfig, run_backtest


def _timed(data: Path, policies: Sequence[str], what: str, target_s: float) -> None:
    config = BacktestConfig(
        traces=data / "spot-traces" / "availability" / "1-node" / "aws-02-15-2023",
        prices=data / "replay-prices.json",
        k=4,
        start_day=20,
        end_day=30,
        policies=policies,
    )
    start = time.perf_counter()
    run = run_backtest(config, show_progress=False)
    total = time.perf_counter() - start
    ticks = run.end - run.start
    print(f"{what}, {len(run.results)} policies x {ticks} ticks, K=4: {total:.1f} s "
          f"(target < {target_s:.0f} s)")  # fmt: skip
    for r in run.results:
        print(f"  {r.policy:22s} cost_ratio {r.cost_ratio:.4f}  availability {r.availability:.4f}")


def main() -> None:
    data = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("/work/shared/data")
    _timed(data, POLICY_NAMES, "backtest", 30)
    _timed(data, ("planner", "planner_no_model"), "executed planner", 60)


if __name__ == "__main__":
    main()
