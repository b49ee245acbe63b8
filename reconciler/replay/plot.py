"""``--plot``: ready nodes and cumulative cost over time, one line per policy (left), and
the cost-availability panel (right, ``plot_frontier.py``)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: a backtest never opens a window
import matplotlib.pyplot as plt
import numpy as np

from reconciler.replay.engine import ReplayResult
from reconciler.replay.plot_frontier import draw_frontier_panel

__all__ = ["plot_results"]


def plot_results(results: Sequence[ReplayResult], *, k: int, gap_seconds: int, path: Path) -> None:
    fig = plt.figure(figsize=(20, 8))
    grid = fig.add_gridspec(2, 2, width_ratios=(1.15, 1))
    ax_ready = fig.add_subplot(grid[0, 0])
    ax_cost = fig.add_subplot(grid[1, 0], sharex=ax_ready)
    draw_frontier_panel(fig.add_subplot(grid[:, 1]), results)
    for r in results:
        if not r.timeline:
            continue
        ticks = np.array([rec.tick for rec in r.timeline])
        days = ticks * gap_seconds / 86400
        ready = np.array([rec.ready for rec in r.timeline])
        cost = np.cumsum([rec.cost for rec in r.timeline])
        ax_ready.step(
            days, ready, where="post", label=f"{r.policy} ({r.availability:.3f})", linewidth=0.8
        )
        ax_cost.plot(days, cost, label=f"{r.policy} ({r.cost_ratio:.3f})", linewidth=1.0)
    ax_ready.axhline(k, color="black", linestyle=":", linewidth=0.8)
    ax_ready.set_ylabel("ready nodes")
    ax_ready.legend(fontsize=7, loc="lower left", title="availability")
    ax_cost.set_ylabel("cumulative cost ($)")
    ax_cost.set_xlabel("day of trace")
    ax_cost.legend(fontsize=7, loc="upper left", title="cost_ratio")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
