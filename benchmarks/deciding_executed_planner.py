"""The planner through the daemon's acting path (``reconciler.control``) over a 10-day
backtest at K=4, model fit included, against the plan alone (no guards, no groups).

    .venv/bin/python -m benchmarks.deciding_executed_planner [DATA_DIR]

Target: under 60 s for the executed path, on availability/1-node/aws-02-15-2023, days 20-30.
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
        policies=("planner", "planner_no_model"),
    )
    start = time.perf_counter()
    run = run_backtest(config, show_progress=False)
    total = time.perf_counter() - start
    ticks = run.end - run.start
    print(
        f"executed planner and planner_no_model, {ticks} ticks each, K=4: {total:.1f} s "
        "(target < 60 s)"
    )
    for r in run.results:
        print(f"  {r.policy:18s} cost_ratio {r.cost_ratio:.4f}  availability {r.availability:.4f}")


if __name__ == "__main__":
    main()
