"""A full backtest of one 10-day window at K=4: all eleven policies (reference, peers,
planner), model fit included.

    .venv/bin/python -m benchmarks.deciding_backtest [DATA_DIR]

Target: under 30 s, on availability/1-node/aws-02-15-2023, days 20-30.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from reconciler.replay.backtest import BacktestConfig, run_backtest


def main() -> None:
    data = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("/work/shared/data")
    config = BacktestConfig(
        traces=data / "spot-traces" / "availability" / "1-node" / "aws-02-15-2023",
        prices=data / "replay-prices.json",
        k=4,
        start_day=20,
        end_day=30,
    )
    start = time.perf_counter()
    run = run_backtest(config, show_progress=False)
    total = time.perf_counter() - start
    ticks = run.end - run.start
    print(
        f"backtest, {len(run.results)} policies x {ticks} ticks, K=4: {total:.1f} s (target < 30 s)"
    )
    for r in run.results:
        print(f"  {r.policy:22s} cost_ratio {r.cost_ratio:.4f}  availability {r.availability:.4f}")


if __name__ == "__main__":
    main()
