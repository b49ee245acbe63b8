"""The peers' frontier on the cost-availability plane, and a policy's margin over it.

Time-sharing two policies reaches any point on the segment between them, so what the
peers can reach is the upper concave hull of their (cost_ratio, availability) points.
Below the cheapest peer's cost the frontier is that peer's availability; above the
dearest peer's cost it is the best peer's. A spotfleet policy's *margin* is its
availability minus the frontier at its cost: above zero, it serves more than any mix of
the peers that costs the same.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = ["Frontier", "Point", "margins", "peer_frontier"]


@dataclass(frozen=True, slots=True)
class Point:
    """One policy on the plane."""

    name: str
    cost_ratio: float
    availability: float


def _cross(o: Point, a: Point, b: Point) -> float:
    return (a.cost_ratio - o.cost_ratio) * (b.availability - o.availability) - (
        a.availability - o.availability
    ) * (b.cost_ratio - o.cost_ratio)


@dataclass(frozen=True)
class Frontier:
    """The hull's vertices by cost, and the best peer's availability (used above the dearest)."""

    vertices: tuple[Point, ...]
    best: float

    def at(self, cost_ratio: float) -> float:
        """The availability the peers reach at ``cost_ratio``."""
        first, last = self.vertices[0], self.vertices[-1]
        if cost_ratio <= first.cost_ratio:
            return first.availability
        if cost_ratio > last.cost_ratio:
            return self.best
        for a, b in zip(self.vertices, self.vertices[1:], strict=False):
            if cost_ratio <= b.cost_ratio:
                share = (cost_ratio - a.cost_ratio) / (b.cost_ratio - a.cost_ratio)
                return a.availability + share * (b.availability - a.availability)
        return last.availability  # unreachable: cost_ratio <= last.cost_ratio here

    def margin(self, point: Point) -> float:
        return point.availability - self.at(point.cost_ratio)


def peer_frontier(peers: Iterable[Point]) -> Frontier:
    """The upper concave hull of the peers' points (Andrew's monotone chain, upper half)."""
    points = sorted(peers, key=lambda p: (p.cost_ratio, p.availability))
    if not points:
        raise ValueError("the frontier needs at least one peer; run one with --policy")
    # Of several points at one cost only the best can be on the upper hull; the sort puts it last.
    by_cost = {p.cost_ratio: p for p in points}
    hull: list[Point] = []
    for p in sorted(by_cost.values(), key=lambda q: q.cost_ratio):
        while len(hull) >= 2 and _cross(hull[-2], hull[-1], p) >= 0:
            hull.pop()  # hull[-1] lies on or below the segment hull[-2] -> p
        hull.append(p)
    return Frontier(vertices=tuple(hull), best=max(p.availability for p in points))


def margins(frontier: Frontier, points: Sequence[Point]) -> dict[str, float]:
    """``{"policy": margin}`` for each of ``points``, in their order."""
    return {p.name: frontier.margin(p) for p in points}
