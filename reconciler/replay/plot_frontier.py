"""The cost-availability panel of ``--plot``: every policy a point, the peers' frontier a line.

spotfleet's policies are drawn large and in colour, the peers in grey with their hull,
the reference policies small; a sweep is its own curve, in the order of its values.
The axes frame the peers and spotfleet; a policy outside (``on_demand`` at cost 1) is
named in a note instead of squeezing everything else into a corner.
"""

from __future__ import annotations

from collections.abc import Sequence

from matplotlib.axes import Axes

from reconciler.replay.engine import ReplayResult
from reconciler.replay.frontier import Frontier, Point, peer_frontier
from reconciler.replay.peers import PEER_NAMES

__all__ = ["draw_frontier_panel"]

# colour, marker, size, label offset (planner above its point, planner_no_model below).
_SPOTFLEET_STYLE = {
    "planner": ("#d62728", "*", 260, (8, 6)),
    "planner_no_model": ("#ff7f0e", "P", 150, (8, -13)),
}
_SWEEP_COLOUR = "#1f77b4"


def _is_sweep(name: str) -> bool:
    return name.startswith("planner[")


def _frame(points: Sequence[ReplayResult]) -> tuple[float, float, float, float]:
    xs = [r.cost_ratio for r in points]
    ys = [r.availability for r in points]
    dx = max(0.02, 0.08 * (max(xs) - min(xs)))
    dy = max(0.005, 0.10 * (max(ys) - min(ys)))
    return min(xs) - dx, max(xs) + 2.5 * dx, min(ys) - dy, min(1.0 + dy / 4, max(ys) + dy)


def _draw_hull(ax: Axes, frontier: Frontier, x_lo: float, x_hi: float) -> None:
    xs = [v.cost_ratio for v in frontier.vertices]
    ys = [v.availability for v in frontier.vertices]
    ax.plot(xs, ys, color="0.45", linewidth=1.6, zorder=2, label="peers' frontier")
    # Beyond the peers: flat at the cheapest peer's, and at the best peer's availability.
    ax.plot([x_lo, xs[0]], [ys[0], ys[0]], color="0.45", linewidth=1.0, linestyle="--", zorder=2)
    ax.plot([xs[-1], x_hi], [frontier.best, frontier.best], color="0.45", linewidth=1.0, ls="--")


def draw_frontier_panel(ax: Axes, results: Sequence[ReplayResult]) -> None:
    """Draw the panel on ``ax`` (nothing but a note when no peer ran)."""
    peers = [r for r in results if r.policy in PEER_NAMES]
    spotfleet = [r for r in results if r.policy in _SPOTFLEET_STYLE or _is_sweep(r.policy)]
    framed = peers + spotfleet or list(results)
    x_lo, x_hi, y_lo, y_hi = _frame(framed)
    frontier = (
        peer_frontier(Point(r.policy, r.cost_ratio, r.availability) for r in peers)
        if peers
        else None
    )
    if frontier is not None:
        _draw_hull(ax, frontier, x_lo, x_hi)
    outside: list[str] = []
    # Policies at one point (karpenter and spread_with_fallback often are) share one label.
    shared: dict[tuple[float, float], list[ReplayResult]] = {}
    for r in results:
        inside = x_lo <= r.cost_ratio <= x_hi and y_lo <= r.availability <= y_hi
        if not inside:
            outside.append(f"{r.policy} ({r.cost_ratio:.3f}, {r.availability:.3f})")
            continue
        if r.policy in PEER_NAMES:
            ax.scatter(r.cost_ratio, r.availability, s=70, color="0.35", zorder=3)
            shared.setdefault((round(r.cost_ratio, 3), round(r.availability, 3)), []).append(r)
        elif r.policy in _SPOTFLEET_STYLE:
            colour, marker, size, offset = _SPOTFLEET_STYLE[r.policy]
            ax.scatter(
                r.cost_ratio,
                r.availability,
                s=size,
                marker=marker,
                color=colour,
                edgecolor="black",
                linewidth=0.6,
                zorder=5,
            )
            margin = frontier.margin(_point(r)) if frontier is not None else None
            text = r.policy + (f"  {margin:+.3f}" if margin is not None else "")
            _label(ax, r, text, color=colour, bold=True, offset=offset)
        elif not _is_sweep(r.policy):
            ax.scatter(r.cost_ratio, r.availability, s=25, marker="x", color="0.6", zorder=3)
            shared.setdefault((round(r.cost_ratio, 3), round(r.availability, 3)), []).append(r)
    for group in shared.values():
        peer = any(g.policy in PEER_NAMES for g in group)
        names = sorted((g.policy for g in group), key=lambda n: (n not in PEER_NAMES, n))
        _label(ax, group[0], " = ".join(names), color="0.25" if peer else "0.5", size=8)
    _draw_sweep(ax, [r for r in results if _is_sweep(r.policy)], frontier)
    ax.set_xlim(x_lo, x_hi)
    ax.set_ylim(y_lo, y_hi)
    ax.set_xlabel("cost_ratio (share of K on-demand nodes)  \u2192 dearer")
    ax.set_ylabel("availability (share of ticks served)  \u2192 better")
    ax.set_title("cost vs availability: above the grey line beats every mix of the peers")
    ax.grid(True, linewidth=0.4, alpha=0.5)
    if outside:
        ax.text(
            0.01,
            0.01,
            "off the panel: " + "; ".join(outside),
            transform=ax.transAxes,
            fontsize=7,
            color="0.4",
            va="bottom",
        )
    ax.legend(fontsize=8, loc="lower right")


def _point(r: ReplayResult) -> Point:
    return Point(r.policy, r.cost_ratio, r.availability)


def _label(
    ax: Axes,
    r: ReplayResult,
    text: str,
    *,
    color: str,
    bold: bool = False,
    size: float = 8,
    offset: tuple[float, float] = (7, 4),
) -> None:
    ax.annotate(
        text,
        (r.cost_ratio, r.availability),
        textcoords="offset points",
        xytext=offset,
        fontsize=size,
        color=color,
        fontweight="bold" if bold else "normal",
        zorder=6,
    )


def _draw_sweep(ax: Axes, points: Sequence[ReplayResult], frontier: Frontier | None) -> None:
    if not points:
        return
    setting = points[0].policy.removeprefix("planner[").split("=", 1)[0]
    ax.plot(
        [r.cost_ratio for r in points],
        [r.availability for r in points],
        color=_SWEEP_COLOUR,
        marker="o",
        markersize=5,
        linewidth=1.4,
        zorder=4,
        label=f"planner, sweeping {setting}",
    )
    at: dict[tuple[float, float], list[ReplayResult]] = {}
    for r in points:  # values that land on one point share a label: "2, 3 (+0.022)"
        at.setdefault((round(r.cost_ratio, 4), round(r.availability, 4)), []).append(r)
    for group in at.values():
        r = group[0]
        values = ", ".join(g.policy.split("=", 1)[1].rstrip("]") for g in group)
        margin = frontier.margin(_point(r)) if frontier is not None else None
        text = values + (f" ({margin:+.3f})" if margin is not None else "")
        ax.annotate(
            text,
            (r.cost_ratio, r.availability),
            textcoords="offset points",
            xytext=(-5, 5),
            ha="right",
            fontsize=7,
            color=_SWEEP_COLOUR,
        )
