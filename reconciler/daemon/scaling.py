"""How many nodes the fleet needs: AWS's backlog-per-instance rule, a pure function.

acceptable backlog per node = acceptable latency / average seconds per job; the fleet
needs enough nodes for the messages waiting and in flight, within min and max. With no
work at all it keeps its size until it has been idle for ``idle_to_zero_s``, then goes to
its minimum (zero by default). This is K, the nodes that must serve: the planner adds its
spares and places them, and replacements of warned nodes are the planner's too (a warned
node is planned without), so nothing here counts them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

__all__ = ["ScaleDecision", "desired_nodes"]


@dataclass(frozen=True, slots=True)
class ScaleDecision:
    desired: int
    reason: str


def desired_nodes(
    *,
    visible: int,
    in_flight: int,
    seconds_per_job: float,
    acceptable_latency_s: float,
    min_nodes: int,
    max_nodes: int,
    current: int,
    idle_since: datetime | None,
    now: datetime,
    idle_to_zero_s: float,
) -> ScaleDecision:
    per_node = max(1, math.floor(acceptable_latency_s / seconds_per_job))
    work = max(0, visible) + max(0, in_flight)
    if work == 0:
        idle_for = 0.0 if idle_since is None else (now - idle_since).total_seconds()
        if idle_for >= idle_to_zero_s:
            return ScaleDecision(
                min_nodes, f"idle {idle_for:.0f} s >= {idle_to_zero_s:.0f} s: down to {min_nodes}"
            )
        keep = min(max(current, min_nodes), max_nodes)
        return ScaleDecision(keep, f"no backlog for {idle_for:.0f} s: keeping {keep}")
    need = math.ceil(work / per_node)
    desired = min(max(need, min_nodes), max_nodes)
    why = (
        f"{work} jobs / ({acceptable_latency_s:.0f} s / {seconds_per_job:.1f} s per job "
        f"= {per_node} per node) = {need} nodes"
    )
    if desired != need:
        why += f", held within [{min_nodes}, {max_nodes}]: {desired}"
    return ScaleDecision(desired, why)
