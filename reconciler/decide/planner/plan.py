"""From a snapshot to a plan: filters, scores, spares, moves, fallback, in that order.

The rules (docs/deciding.md has the long form):

1. Filters decide which pools may take a launch (free slot, price, predicted loss).
2. Kept pools are ranked by expected $/h (price + loss rate x cost of a loss + crowding).
3. A held node whose pool's loss is above ``move_risk`` is *moving* if a kept pool is at
   least ``min_gain`` safer: its replacement is launched now, and it is drained only
   once enough healthy nodes are ready (launch first, drain after).
4. Spares: the expected losses of the K nodes that serve (their probabilities summed)
   buy one spare per ``spare_risk`` (scaled by what a spare costs next to the fleet,
   ``spare_share_ref``), up to ``max_spare``.
5. Spot launches fill the healthy nodes up to K + spare, best pool first. If kept pools
   cannot reach K, pools rejected only for their predicted loss may fill up to K.
6. On-demand fills what spot cannot hold (and the declared floor); it is drained once
   enough spot is ready and it has served ``on_demand_dwell_s``. Where spot has no room
   left for a spare, only spot that has been ready ``on_demand_settle_s`` counts as
   enough: warm on-demand nodes are the spares while the spot that replaced them is new,
   as many as that new spot's expected losses (at least one).
7. Surplus spot (above K + spare) is drained riskiest first, only once the newest spot node
   has served ``min_dwell_s``, and never below K + spare ready.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from collections.abc import Mapping

from reconciler.decide.planner.filters import LossBelow, default_filters, run_filters
from reconciler.decide.planner.scoring import ScoredPool, score_pool
from reconciler.decide.planner.settings import PlannerSettings
from reconciler.decide.planner.types import (
    Action,
    Drain,
    FleetNode,
    LaunchOnDemand,
    LaunchSpot,
    Placement,
    PlacementPool,
    Plan,
    PoolVerdict,
    PoolView,
    Purpose,
    Snapshot,
)

__all__ = ["plan"]

_UNKNOWN_POOL_LOSS = 1.0  # a node in a pool no longer offered is treated as about to go


def plan(snapshot: Snapshot, settings: PlannerSettings | None = None) -> Plan:
    s = settings if settings is not None else PlannerSettings()
    now = snapshot.now
    k = snapshot.fleet.desired_nodes
    floor = min(snapshot.fleet.on_demand_floor, k)
    k_spot = k - floor
    pools = {p.name: p for p in snapshot.pools}

    def loss(node: FleetNode) -> float:
        pool = pools.get(node.pool) if node.pool is not None else None
        return pool.loss_probability if pool is not None else _UNKNOWN_POOL_LOSS

    spot = [n for n in snapshot.nodes if n.pool is not None]
    on_demand = [n for n in snapshot.nodes if n.pool is None]
    held = Counter(n.pool for n in spot if n.pool is not None)
    zone_nodes: Counter[str] = Counter(pools[n.pool].zone for n in spot if n.pool in pools)

    result = run_filters(snapshot.pools, held, default_filters(s))

    def ranked() -> list[ScoredPool]:
        scored = [
            score_pool(
                p,
                zone_nodes=zone_nodes,
                horizon_s=snapshot.horizon_s,
                cold_start_s=snapshot.cold_start_s,
                settings=s,
            )
            for p in result.kept
            if held[p.name] < p.capacity
        ]
        return sorted(scored, key=lambda sp: (sp.score, sp.pool.name))

    first_ranking = ranked()
    best_free = min((sp.pool.loss_probability for sp in first_ranking), default=None)

    def has_safer_place(n: FleetNode) -> bool:
        # Somewhere at least min_gain safer: a free kept pool, or enough safer nodes already
        # held to serve K without it (its replacement was launched on an earlier tick).
        bar = loss(n) - s.min_gain
        if best_free is not None and best_free <= bar:
            return True
        return sum(1 for m in spot if m is not n and loss(m) <= bar) >= k_spot

    # 3. Moving nodes: risky, with somewhere clearly safer to go.
    moving = [n for n in spot if loss(n) > s.move_risk and has_safer_place(n)]
    moving_ids = {n.node_id for n in moving}
    healthy = [n for n in spot if n.node_id not in moving_ids]

    # 4. Spares from the expected losses of the K nodes that serve (held first, then the
    # pools they would be launched into), so a spare never buys itself another spare.
    risks = sorted(loss(n) for n in healthy)[:k_spot]
    risks += [sp.pool.loss_probability for sp in first_ranking][: max(0, k_spot - len(risks))]
    expected = sum(risks)
    per_spare = _losses_per_spare(snapshot, k, s)
    spare = min(s.max_spare, math.floor(expected / per_spare + 1e-9)) if k_spot > 0 else 0
    alert = any(now - s.alert_s < ts <= now for ts in snapshot.recent_losses)
    if alert and k_spot > 0 and _spare_share(snapshot, k) <= s.alert_max_share:
        spare = max(spare, min(1, s.max_spare))
    if snapshot.fleet.max_nodes is not None:
        spare = max(0, min(spare, snapshot.fleet.max_nodes - k))
    wanted = k_spot + spare

    actions: list[Action] = []
    planned = Counter(held)
    launched: list[str] = []

    # 5. Spot launches, best pool first, re-ranked after each for zone crowding.
    while len(healthy) + len(launched) < wanted:
        options = ranked()
        if not options:
            break
        best = options[0]
        # Launches beyond what the fleet would need without the moving nodes replace them.
        purpose: Purpose
        if len(launched) >= wanted - len(healthy) - len(moving):
            why, purpose = f"move ahead of predicted loss: {best.reason}", "move"
        else:
            why = f"fill to K={k}" + (f" + spare {spare}" if spare else "") + f": {best.reason}"
            short = len(healthy) + len(moving) + len(launched) < k_spot
            purpose = "fill" if short else "spare"
        actions.append(LaunchSpot(best.pool.name, why, purpose))
        launched.append(best.pool.name)
        held[best.pool.name] += 1
        planned[best.pool.name] += 1
        zone_nodes[best.pool.zone] += 1

    serving_spot = len(healthy) + len(moving) + len(launched)
    if serving_spot < k_spot and s.risky_spot_before_on_demand:
        risky = sorted(
            (
                pools[name]
                for name, (fname, _) in result.rejected.items()
                if fname == LossBelow.name and held[name] < pools[name].capacity
            ),
            key=lambda p: (p.loss_probability, p.name),
        )
        for pool in risky:
            while serving_spot < k_spot and held[pool.name] < pool.capacity:
                actions.append(
                    LaunchSpot(
                        pool.name,
                        f"no pool under the loss cap can reach K={k}; "
                        + result.rejected[pool.name][1],
                    )
                )
                held[pool.name] += 1
                planned[pool.name] += 1
                serving_spot += 1

    # 6. On-demand: fill what spot cannot hold; return to spot once spot is ready.
    od_needed = max(floor, k - serving_spot) if s.on_demand_fallback else floor
    for _ in range(len(on_demand), od_needed):
        region = snapshot.pools[0].region if snapshot.pools else None
        actions.append(
            LaunchOnDemand(
                region, f"spot can hold {serving_spot} of K={k}: on-demand fills the rest"
            )
        )
    ready_spot = sum(1 for n in spot if n.ready(now))
    od_keep = max(floor, k - ready_spot)
    if not ranked():
        # No kept pool has a free slot, so no spot spare can be had: while the spot that
        # made on-demand redundant is new, on-demand nodes stay as the fleet's spares, as
        # many as that new spot's expected losses (at least one, at most one per node).
        unsettled = [n for n in spot if not _settled(n, now, loss(n), s)]
        od_spares = max(1, math.ceil(sum(map(loss, unsettled)) - 1e-9))
        settled = len(spot) - len(unsettled)
        od_keep = max(od_keep, min(k - settled, od_keep + od_spares))
    od_drainable = sorted(
        (n for n in on_demand if n.launched_at + s.on_demand_dwell_s <= now),
        key=lambda n: n.launched_at,
    )
    od_drained = 0
    for node in od_drainable[: max(0, len(on_demand) - od_keep)]:
        actions.append(
            Drain(
                node.node_id,
                None,
                f"{ready_spot} spot nodes ready ≥ K={k}: back to spot",
                "back_to_spot",
            )
        )
        od_drained += 1

    # 3 (after). Drain moving nodes once the healthy ones ready can serve without them.
    ready_healthy = sum(1 for n in healthy if n.ready(now))
    for node in sorted(moving, key=loss, reverse=True):
        if ready_healthy >= wanted:
            actions.append(
                Drain(
                    node.node_id,
                    node.pool,
                    f"moved ahead of predicted loss {loss(node):.2f} > {s.move_risk:.2f}",
                    "moved",
                )
            )
            planned[node.pool] -= 1  # type: ignore[index]

    # 7. Surplus healthy spot, riskiest first, after its dwell, never below K + spare ready.
    # The dwell is the fleet's: after any spot launch, nothing is shed as surplus until the
    # newest node has served min_dwell_s, so a spare bought a moment ago is not traded away.
    surplus = len(healthy) - wanted
    newest = max((n.launched_at for n in spot), default=-math.inf)
    if surplus > 0 and newest + s.min_dwell_s <= now:
        candidates = sorted(
            (n for n in healthy if n.ready(now)),
            key=lambda n: (-loss(n), -n.launched_at),
        )
        for node in candidates:
            if surplus <= 0 or ready_healthy - 1 < wanted:
                break
            actions.append(
                Drain(
                    node.node_id,
                    node.pool,
                    f"surplus: {len(healthy)} healthy > K={k} + spare {spare}",
                )
            )
            planned[node.pool] -= 1  # type: ignore[index]
            ready_healthy -= 1
            surplus -= 1

    verdicts = _verdicts(
        snapshot.pools, result.rejected, ranked_all=first_ranking, held_pools=set(held)
    )
    placement = _placement(
        snapshot,
        planned,
        first_ranking,
        len(on_demand) + max(0, od_needed - len(on_demand)) - od_drained,
        spare,
        expected,
        per_spare,
    )
    summary = (
        f"{snapshot.fleet.name}: K={k}, spot {len(spot)} held ({ready_spot} ready), "
        f"on-demand {len(on_demand)}; "
        f"expected losses {expected:.2f}/{snapshot.horizon_s / 60:.0f}min"
        + (", a node lost within the alert window" if alert else "")
        + f" → spare {spare}; "
        f"{len(actions)} action(s)"
    )
    digest = hashlib.sha256(f"{snapshot.fleet.name}|{now}|{placement}".encode()).hexdigest()[:12]
    return Plan(
        decision_id=digest,
        placement=placement,
        actions=tuple(actions),
        verdicts=verdicts,
        summary=summary,
    )


def _settled(node: FleetNode, now: float, loss: float, s: PlannerSettings) -> bool:
    """Spot that can stand in for on-demand: ready long enough, or in a pool predicted safe."""
    return node.ready_at + s.on_demand_settle_s <= now or loss < s.settle_below_loss


def _losses_per_spare(snapshot: Snapshot, k: int, s: PlannerSettings) -> float:
    """Expected losses within the horizon that buy one spare: ``spare_risk`` where a spare
    costs ``spare_share_ref`` of the fleet, scaled by what it costs here (a cheap spare next
    to a large fleet pays for itself on fewer losses), by half to twice."""
    share = _spare_share(snapshot, k)
    if s.spare_share_ref <= 0 or not math.isfinite(share):
        return s.spare_risk
    # Bounded: a price missing from the history (0) must not make spares free.
    return s.spare_risk * min(max(share / s.spare_share_ref, 0.5), 2.0)


def _spare_share(snapshot: Snapshot, k: int) -> float:
    """What one spare costs next to the fleet: cheapest spot price / (K x on-demand price)."""
    if not snapshot.pools:
        return math.inf
    spot = min(p.spot_price for p in snapshot.pools)
    on_demand = max(p.on_demand_price for p in snapshot.pools)
    if k <= 0 or on_demand <= 0:
        return math.inf  # no on-demand price known: nothing to weigh a spare against
    return spot / (k * on_demand)


def _verdicts(
    pools: tuple[PoolView, ...],
    rejected: Mapping[str, tuple[str, str]],
    *,
    ranked_all: list[ScoredPool],
    held_pools: set[str],
) -> tuple[PoolVerdict, ...]:
    rank = {sp.pool.name: (i, sp) for i, sp in enumerate(ranked_all)}
    out: list[PoolVerdict] = []
    for p in pools:
        if p.name in rank:
            i, sp = rank[p.name]
            out.append(PoolVerdict(p.name, True, sp.score, f"rank {i + 1}: {sp.reason}"))
        elif p.name in rejected:
            fname, why = rejected[p.name]
            out.append(PoolVerdict(p.name, False, None, f"rejected by {fname}: {why}"))
        else:
            out.append(PoolVerdict(p.name, True, None, f"{p.name}: kept, no free slot to rank"))
    return tuple(out)


def _placement(
    snapshot: Snapshot,
    planned: Counter[str],
    ranking: list[ScoredPool],
    on_demand: int,
    spare: int,
    expected: float,
    per_spare: float,
) -> Placement:
    order = [sp.pool.name for sp in ranking]
    holding = sorted(
        (p for p, n in planned.items() if n > 0),
        key=lambda p: (order.index(p) if p in order else len(order), p),
    )
    rest = [p for p in order if p not in holding]
    entries = [PlacementPool(p, i, planned[p]) for i, p in enumerate(holding)]
    entries += [PlacementPool(p, len(entries) + i, 0) for i, p in enumerate(rest)]
    spot_total = sum(n for n in planned.values() if n > 0)
    reason = (
        f"{spot_total} spot in {len(holding)} pool(s), {on_demand} on-demand; "
        f"spare {spare} for expected losses {expected:.2f} (one per {per_spare:.2f})"
    )
    return Placement(
        fleet=snapshot.fleet.name,
        pools=tuple(entries),
        on_demand_base=on_demand,
        desired_nodes=spot_total + on_demand,
        spare=spare,
        reason=reason,
    )
