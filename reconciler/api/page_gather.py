"""A leading daemon's status page snapshot: its status view (last plan, group view, from
memory) and the history's reads, put together once per request."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from reconciler.api.chart import PALETTE
from reconciler.api.page_view import FleetPage, ModelPanel, PoolRow, StatusPageView
from reconciler.api.status_view import DaemonStatus, FleetStatus, PlanView
from reconciler.core.history.cost_reads import fleet_cost
from reconciler.core.history.ledger import Ledger
from reconciler.core.history.status_reads import (
    job_counts,
    live_nodes_by_pool,
    node_count_series,
    operator_actions,
    placement_score_series,
    recent_decisions,
)
from reconciler.decide.model_compare import Replayed
from reconciler.decide.model_state import ModelState

__all__ = ["gather_page_view", "pool_rows"]


def gather_page_view(
    status: DaemonStatus,
    ledger: Ledger,
    *,
    window_s: float,
    extras: tuple[tuple[str, object], ...] = (),
    extras_error: str | None = None,
) -> StatusPageView:
    now = status.now
    return StatusPageView(
        role="leader",
        now=now,
        window_s=window_s,
        mode=status.mode,
        breaker_open=status.breaker.open,
        started_at=status.started_at,
        failing_jobs=tuple(
            (name, str(job.last_error)) for name, job in status.jobs.items() if job.last_ok is False
        ),
        extras=extras,
        extras_error=extras_error,
        fleets=tuple(
            fleet_page(fleet, ledger, now=now, window_s=window_s) for fleet in status.fleets
        ),
        model=model_panel(status.model),
    )


def model_panel(state: ModelState) -> ModelPanel:
    c = state.candidate
    return ModelPanel(
        deciding=state.deciding,
        reason=state.reason,
        candidate_id=state.candidate_id,
        candidate_reason=c.reason if c else None,
        window=f"{c.window_from[:16]} .. {c.window_until[:16]} UTC" if c else None,
        replayed=replayed_line(c.replayed) if c and c.replayed else None,
    )


def replayed_line(r: Replayed) -> str:
    """The replayed figures in one line: availability / cost ratio of each decider."""
    rows = [("candidate", r.candidate), ("baseline", r.baseline)]
    if r.live is not None:
        rows.append(("live model", r.live))
    return ", ".join(f"{n} {f.availability:.4f} / {f.cost_ratio:.4f}" for n, f in rows)


def fleet_page(status: FleetStatus, ledger: Ledger, *, now: datetime, window_s: float) -> FleetPage:
    fleet, group = status.target, status.group
    start = now - timedelta(seconds=window_s)
    live = live_nodes_by_pool(ledger, fleet.name)
    pools = pool_rows(live, status.plan, fleet.pools())
    # One line per pool reads well up to the palette's ten colours: the table's first ten
    # (those with nodes come first) are drawn.
    charted = [p.pool for p in pools[: len(PALETTE)]]
    return FleetPage(
        name=fleet.name,
        group_desired=group.desired if group else None,
        instances=group.instances if group else None,
        wanted_nodes=status.desired_nodes,
        wanted_reason=status.desired_reason,
        pools=pools,
        decisions=recent_decisions(ledger, fleet.name),
        placement_scores=placement_score_series(ledger, charted, start=start, end=now),
        node_count=node_count_series(ledger, fleet.name, start=start, end=now),
        cost=fleet_cost(ledger, fleet.name, now=now, on_demand_fallback=fleet.on_demand_prices),
        jobs=job_counts(ledger, fleet.name),
        uncharted_pools=len(pools) - len(charted),
        drift=status.drift,
        controls=status.controls,
        operator_actions=operator_actions(ledger, fleet.name),
    )


def pool_rows(
    live: Mapping[str, tuple[int, int]], planned: PlanView | None, candidates: Sequence[str]
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
                verdict=planned.verdicts.get(pool) if planned else None,
            )
        )
    return tuple(sorted(rows, key=lambda r: (r.nodes == 0, r.pool)))
