"""``--plot``'s cost-availability panel: every policy a labelled point, the peers' hull a line."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest

from reconciler.replay.engine import ReplayResult, TickRecord
from reconciler.replay.plot import plot_results
from reconciler.replay.plot_frontier import draw_frontier_panel


def result(name: str, cost: float, avail: float) -> ReplayResult:
    timeline = tuple(TickRecord(t, 2 if t % 7 else 1, 2, 0, cost, 3 * cost) for t in range(50))
    return ReplayResult(name, 50, cost * 50, cost, avail, avail, 1, 0, 3, 0.0, 1.0, timeline)


RESULTS = [
    result("on_demand", 1.0, 0.999),
    result("even_spread", 0.30, 0.92),
    result("spothedge+0", 0.32, 0.947),
    result("spothedge+1", 0.38, 0.980),
    result("spothedge+2", 0.44, 0.983),
    result("karpenter", 0.31, 0.937),
    result("asg_capacity_optimized", 0.298, 0.921),
    result("planner", 0.326, 0.971),
    result("planner_no_model", 0.327, 0.970),
    result("planner[spare_risk=1]", 0.35, 0.975),
    result("planner[spare_risk=3]", 0.32, 0.965),
]


def test_the_panel_labels_every_policy_draws_the_hull_and_names_what_is_off_it():
    fig, ax = plt.subplots()
    draw_frontier_panel(ax, RESULTS)
    texts = [t.get_text() for t in ax.texts]
    for name in ("spothedge+1", "karpenter", "asg_capacity_optimized", "even_spread"):
        assert name in texts
    planner = next(t for t in texts if t.startswith("planner "))
    assert planner.startswith("planner  +")  # its margin beside its name
    assert any("on_demand" in t and t.startswith("off the panel") for t in texts)
    lines = {line.get_label() for line in ax.get_lines()}
    assert "peers' frontier" in lines
    assert "planner, sweeping spare_risk" in lines
    hull = next(line for line in ax.get_lines() if line.get_label() == "peers' frontier")
    xs = np.asarray(hull.get_xdata(), dtype=float)
    assert xs.tolist() == pytest.approx([0.298, 0.31, 0.32, 0.38, 0.44])
    plt.close(fig)


def test_plot_results_writes_a_png_with_the_panel(tmp_path):
    path = tmp_path / "bt.png"
    plot_results(RESULTS, k=2, gap_seconds=195, path=path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert path.stat().st_size > 30_000


def test_without_peers_the_panel_still_draws_the_policies():
    fig, ax = plt.subplots()
    draw_frontier_panel(
        ax, [r for r in RESULTS if not r.policy.startswith(("spot", "karp", "asg"))]
    )
    assert "planner" in [t.get_text() for t in ax.texts]
    plt.close(fig)
