"""A backtest: load a collection, run every policy over one window, return the results."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from reconciler.core.advisor import load_advisor_bands
from reconciler.core.market import MarketSeries
from reconciler.core.traces import TraceCollection, load_collection, load_prices, window_ticks
from reconciler.decide.model import ModelSettings, TrainedModel
from reconciler.decide.planner import PlannerSettings
from reconciler.replay.engine import ReplayResult, replay
from reconciler.replay.frontier import Frontier, Point, peer_frontier
from reconciler.replay.peers import PEER_NAMES, peer_policy
from reconciler.replay.planner_policy import PlannerPolicy
from reconciler.replay.reference import EvenSpread, OnDemand, SinglePool, SpreadWithFallback
from reconciler.replay.sweep import Sweep
from reconciler.replay.types import Policy

__all__ = [
    "PEER_NAMES",
    "POLICY_NAMES",
    "BacktestConfig",
    "BacktestRun",
    "LoadedMarket",
    "is_spotfleet",
    "load_market",
    "run_backtest",
]

REFERENCE_NAMES = ("on_demand", "single_pool", "even_spread", "spread_with_fallback")
POLICY_NAMES = (*REFERENCE_NAMES, *PEER_NAMES, "planner", "planner_no_model")


def is_spotfleet(name: str) -> bool:
    """spotfleet's own policies: the planner, without its model, and every sweep point."""
    return name in ("planner", "planner_no_model") or name.startswith("planner[")


@dataclass(frozen=True)
class BacktestConfig:
    traces: Path
    prices: Path
    k: int = 4
    start_day: float | None = None
    end_day: float | None = None
    accelerator: str | None = None
    cold_start_s: float = 300.0
    advisor: Path | None = None
    policies: Sequence[str] = POLICY_NAMES
    planner: PlannerSettings = field(default_factory=PlannerSettings)
    model: ModelSettings = field(default_factory=ModelSettings)
    sweep: Sweep | None = None  # one more planner run per value, after the policies


@dataclass(frozen=True)
class BacktestRun:
    collection: TraceCollection
    start: int
    end: int
    results: tuple[ReplayResult, ...]
    model: TrainedModel | None
    warnings: tuple[str, ...]

    @property
    def frontier(self) -> Frontier | None:
        """The peers' frontier, or None when no peer ran."""
        peers = [_point(r) for r in self.results if r.policy in PEER_NAMES]
        return peer_frontier(peers) if peers else None

    @property
    def margins(self) -> dict[str, float]:
        """``{"policy": margin}`` of every spotfleet policy that ran (empty without peers)."""
        frontier = self.frontier
        if frontier is None:
            return {}
        return {
            r.policy: frontier.margin(_point(r)) for r in self.results if is_spotfleet(r.policy)
        }


def _point(result: ReplayResult) -> Point:
    return Point(result.policy, result.cost_ratio, result.availability)


def _planner(
    name: str, settings: PlannerSettings, config: BacktestConfig, progress: Progress
) -> PlannerPolicy:
    use_model = name != "planner_no_model"
    task = progress.add_task("fit model (ticks before the window)", total=None, visible=use_model)

    def on_iteration(done: int, total: int) -> None:
        progress.update(task, completed=done, total=total)

    return PlannerPolicy(
        name=name,
        use_model=use_model,
        planner_settings=settings,
        model_settings=config.model,
        cold_start_s=config.cold_start_s,
        on_train_iteration=on_iteration,
    )


def _policy(name: str, config: BacktestConfig, progress: Progress) -> Policy:
    if name == "on_demand":
        return OnDemand()
    if name == "single_pool":
        return SinglePool()
    if name == "even_spread":
        return EvenSpread()
    if name == "spread_with_fallback":
        return SpreadWithFallback()
    if name in PEER_NAMES:
        return peer_policy(name)
    if name in ("planner", "planner_no_model"):
        return _planner(name, config.planner, config, progress)
    raise ValueError(f"unknown policy {name!r}; choose from {', '.join(POLICY_NAMES)}")


@dataclass(frozen=True)
class LoadedMarket:
    """A collection's market, loaded once for every window run on it."""

    collection: TraceCollection
    market: MarketSeries
    warnings: tuple[str, ...]


def load_market(config: BacktestConfig) -> LoadedMarket:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        collection = load_collection(config.traces, config.accelerator)
    prices = load_prices(config.prices, collection.tag)
    advisor_path = config.advisor
    if advisor_path is None and (config.prices.parent / "spot-advisor-data.json").exists():
        advisor_path = config.prices.parent / "spot-advisor-data.json"
    advisor = load_advisor_bands(advisor_path) if advisor_path is not None else None
    return LoadedMarket(
        collection=collection,
        market=collection.market(prices, advisor),
        warnings=tuple(str(w.message) for w in caught),
    )


def run_backtest(
    config: BacktestConfig, *, show_progress: bool = True, loaded: LoadedMarket | None = None
) -> BacktestRun:
    """Every policy over the window ``config.start_day .. config.end_day`` (``loaded``: a
    market already read, so a walk-forward reads the collection once)."""
    loaded = loaded if loaded is not None else load_market(config)
    collection, market = loaded.collection, loaded.market
    start, end = window_ticks(
        collection.n_ticks, collection.gap_seconds, config.start_day, config.end_day
    )
    results: list[ReplayResult] = []
    model: TrainedModel | None = None
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, disable=not show_progress, transient=False) as progress:
        policies = [_policy(name, config, progress) for name in config.policies]
        if config.sweep is not None:
            policies += [
                _planner(name, settings, config, progress)
                for name, settings in config.sweep.points(config.planner)
            ]
        for policy in policies:
            name = policy.name
            task = progress.add_task(f"{name} (K={config.k})", total=end - start)
            result = replay(
                policy,
                market,
                k=config.k,
                start=start,
                end=end,
                cold_start_seconds=config.cold_start_s,
                on_tick=lambda _t, task=task: progress.advance(task),  # type: ignore[misc]
            )
            results.append(result)
            if isinstance(policy, PlannerPolicy) and policy.model is not None and model is None:
                model = policy.model
    return BacktestRun(
        collection=collection,
        start=start,
        end=end,
        results=tuple(results),
        model=model,
        warnings=loaded.warnings,
    )
