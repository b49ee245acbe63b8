"""The fleet's groups in a replay: one spot group per pool and one on-demand group, with
AWS's semantics, over one tick of REPLAY.md.

It is the backtest's side of the executor contract (``reconciler.control.GroupsExecutor``):
a group raised above what it holds launches into its own pool, one instance at a time, and a
launch without a free slot fails as AWS's ``InsufficientInstanceCapacity`` does; a node
named for draining is terminated and its group's count lowered; a group lowered without a
name scales in its newest node first (never one launched this tick). Every launch tried,
refused or not, is handed to the replay engine in order, so REPLAY.md's step 4 counts
exactly what the groups tried.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from analytics.pools import Pool
from reconciler.control.types import ExecResult, GroupTargets, HeldNode, LaunchFailure
from reconciler.replay.types import Decision, Node

__all__ = ["ReplayGroups"]


class ReplayGroups:
    def __init__(
        self,
        *,
        pools: tuple[Pool, ...],
        nodes: tuple[Node, ...],
        capacity: npt.NDArray[np.int32],  # data[:, t]
        ready_after_s: float,
    ) -> None:
        self._pools = pools
        self._capacity = capacity
        self._ready_after_s = ready_after_s
        # Members by id: the engine's node ids as strings, this tick's launches as "new-N".
        self._members: dict[str, int | None] = {str(n.node_id): n.pool for n in nodes}
        self._order = {str(n.node_id): n.node_id for n in nodes}
        self._terminate: list[int] = []
        self._launches: list[int | None] = []
        self._new: list[str] = []

    def _held(self, pool: int | None) -> list[str]:
        return [i for i, p in self._members.items() if p == pool]

    def apply(self, targets: GroupTargets, *, now: float) -> ExecResult:
        changed: list[str] = []
        for instance_id in targets.drain:
            if instance_id in self._order and instance_id in self._members:
                self._drop(instance_id)
                changed.append(f"drained {instance_id}")
        launched: list[HeldNode] = []
        failures: list[LaunchFailure] = []
        wanted: list[tuple[int | None, int]] = [
            (i, targets.spot.get(p, 0)) for i, p in enumerate(self._pools)
        ]
        wanted.append((None, targets.on_demand))
        for index, want in wanted:
            held = self._held(index)
            pool = self._pools[index] if index is not None else None
            name = pool.name if pool is not None else "on-demand"
            if want > len(held):
                changed.append(f"{name}: {len(held)} -> {want}")
            for _ in range(want - len(held)):
                self._launches.append(index)
                if index is not None and len(self._held(index)) >= int(self._capacity[index]):
                    failures.append(
                        LaunchFailure(
                            pool,
                            now,
                            "InsufficientInstanceCapacity: there is no Spot capacity "
                            f"available in {name}",
                        )
                    )
                    break  # the group gives up for this tick; its count goes back next round
                node_id = f"new-{len(self._new)}"
                self._new.append(node_id)
                self._members[node_id] = index
                launched.append(HeldNode(node_id, pool, now, now + self._ready_after_s))
            if want < len(held):
                # AWS cannot take back a launch it has made this tick: scale in the newest
                # of the nodes it held before.
                older = sorted((i for i in held if i in self._order), key=self._order.__getitem__)
                changed.append(f"{name}: {len(held)} -> {want} (scale in, newest first)")
                for instance_id in older[::-1][: len(held) - want]:
                    self._drop(instance_id)
        return ExecResult(tuple(launched), tuple(failures), tuple(changed))

    def _drop(self, instance_id: str) -> None:
        del self._members[instance_id]
        self._terminate.append(self._order[instance_id])

    def decision(self) -> Decision:
        return Decision(terminate=tuple(self._terminate), launches=tuple(self._launches))
