"""A leading daemon's status page snapshot: its memory (last plan, group view) and the
history's reads, put together once per request."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from reconciler.api.chart import PALETTE
from reconciler.api.page_view import FleetPage, ModelPanel, PoolRow, StatusPageView
from reconciler.core.history.cost_reads import fleet_cost
from reconciler.core.history.status_reads import (
    capacity_series,
    job_counts,
    live_nodes_by_pool,
    node_count_series,
    operator_actions,
    recent_decisions,
)
from reconciler.core.settings import FleetTarget
from reconciler.daemon.daemon import Daemon
from reconciler.daemon.drift import drift
from reconciler.daemon.model_state import ModelState
from reconciler.decide.adapter import Planned

__all__ = ["gather_page_view", "pool_rows"]


def gather_page_view(
    daemon: Daemon,
    *,
    window_s: float,
    extras: tuple[tuple[str, object], ...] = (),
    extras_error: str | None = None,
) -> StatusPageView:
    now = daemon.clock()
    jobs = daemon.schedule.status()
    return StatusPageView(
        role="leader",
        now=now,
        window_s=window_s,
        mode=daemon.mode,
        breaker_open=daemon.breaker.is_open,
        started_at=daemon.started_at,
        failing_jobs=tuple(
            (name, str(job["last_error"])) for name, job in jobs.items() if job["last_ok"] is False
        ),
        extras=extras,
        extras_error=extras_error,
        fleets=tuple(
            fleet_page(daemon, fleet, now=now, window_s=window_s)
            for fleet in daemon.settings.fleets
        ),
        model=model_panel(daemon.model_state),
    )


def model_panel(state: ModelState) -> ModelPanel:
    c = state.candidate
    return ModelPanel(
        deciding=state.deciding,
        reason=state.reason,
        candidate_id=state.candidate_id,
        candidate_reason=c.reason if c else None,
        window=f"{c.window_from[:16]} .. {c.window_until[:16]} UTC" if c else None,
    )


def fleet_page(daemon: Daemon, fleet: FleetTarget, *, now: datetime, window_s: float) -> FleetPage:
    ledger, view = daemon.ledger, daemon.views[fleet.name]
    start = now - timedelta(seconds=window_s)
    live = live_nodes_by_pool(ledger, fleet.name)
    pools = pool_rows(live, daemon.reconciler.last.get(fleet.name), fleet.pools())
    # One line per pool reads well up to the palette's ten colours: the table's first ten
    # (those with nodes come first) are drawn.
    charted = [p.pool for p in pools[: len(PALETTE)]]
    return FleetPage(
        name=fleet.name,
        group_desired=view.group.desired if view.group else None,
        instances=view.group.instances if view.group else None,
        wanted_nodes=view.desired,
        wanted_reason=view.desired_reason,
        pools=pools,
        decisions=recent_decisions(ledger, fleet.name),
        capacity=capacity_series(ledger, charted, start=start, end=now),
        node_count=node_count_series(ledger, fleet.name, start=start, end=now),
        cost=fleet_cost(ledger, fleet.name, now=now, on_demand_fallback=fleet.on_demand_prices),
        jobs=job_counts(ledger, fleet.name),
        uncharted_pools=len(pools) - len(charted),
        drift=drift(
            fleet,
            (daemon.reconciler.applied.get(fleet.name) or {}).get("placement"),
            view.group.by_group if view.group else {},
        ),
        controls=daemon.operator.controls(fleet.name, now),
        operator_actions=operator_actions(ledger, fleet.name),
    )


def pool_rows(
    live: Mapping[str, tuple[int, int]], planned: Planned | None, candidates: Sequence[str]
) -> tuple[PoolRow, ...]:
    """One row per pool that has live nodes or is a candidate, with the last plan's view of
    it; pools with nodes first, each group by name."""
    predictions = {p.pool: p for p in planned.predictions} if planned else {}
    rows = []
    for pool in {*live, *candidates}:
        spot, on_demand = live.get(pool, (0, 0))
        prediction = predictions.get(pool)
        prices = planned.prices.get(pool) if planned else None
        rows.append(
            PoolRow(
                pool=pool,
                spot_nodes=spot,
                on_demand_nodes=on_demand,
                probability=prediction.probability if prediction else None,
                basis=prediction.basis if prediction else None,
                spot_price=prices[0] if prices else None,
                on_demand_price=prices[1] if prices else None,
                verdict=planned.reasons.get(pool) if planned else None,
            )
        )
    return tuple(sorted(rows, key=lambda r: (r.nodes == 0, r.pool)))
