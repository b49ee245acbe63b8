"""Named pool filters: each keeps a pool or says, in words, why it rejected it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar, Protocol

from reconciler.decide.planner.settings import PlannerSettings
from reconciler.decide.planner.types import PoolView

__all__ = [
    "FilterResult",
    "HasFreeSlot",
    "LossBelow",
    "PoolFilter",
    "PriceBelowOnDemand",
    "default_filters",
    "run_filters",
]


class PoolFilter(Protocol):
    name: ClassVar[str]

    def reject(self, pool: PoolView, held: int) -> str | None:
        """None to keep the pool, else why it is rejected."""
        ...


@dataclass(frozen=True, slots=True)
class HasFreeSlot:
    name: ClassVar[str] = "has_free_slot"

    def reject(self, pool: PoolView, held: int) -> str | None:
        if held < pool.capacity:
            return None
        return f"{pool.name}: no free spot slot (holding {held} of {pool.capacity} available)"


@dataclass(frozen=True, slots=True)
class PriceBelowOnDemand:
    name: ClassVar[str] = "price_below_on_demand"
    max_ratio: float

    def reject(self, pool: PoolView, held: int) -> str | None:
        ratio = pool.spot_price / pool.on_demand_price
        if ratio <= self.max_ratio:
            return None
        return f"{pool.name}: spot price {ratio:.2f} of on-demand > {self.max_ratio:.2f}"


@dataclass(frozen=True, slots=True)
class LossBelow:
    name: ClassVar[str] = "loss_below"
    max_loss: float

    def reject(self, pool: PoolView, held: int) -> str | None:
        if pool.loss_probability <= self.max_loss:
            return None
        return (
            f"{pool.name}: predicted loss {pool.loss_probability:.2f} > {self.max_loss:.2f} "
            f"({pool.basis})"
        )


def default_filters(settings: PlannerSettings) -> tuple[PoolFilter, ...]:
    return (
        HasFreeSlot(),
        PriceBelowOnDemand(settings.max_price_ratio),
        LossBelow(settings.max_loss),
    )


@dataclass(frozen=True)
class FilterResult:
    kept: tuple[PoolView, ...]
    rejected: Mapping[str, tuple[str, str]]  # pool name → (filter name, reason)


def run_filters(
    pools: Sequence[PoolView], held: Mapping[str, int], filters: Sequence[PoolFilter]
) -> FilterResult:
    """Apply filters in order; a pool's first rejection is the one reported."""
    kept: list[PoolView] = []
    rejected: dict[str, tuple[str, str]] = {}
    for pool in pools:
        for f in filters:
            why = f.reject(pool, held.get(pool.name, 0))
            if why is not None:
                rejected[pool.name] = (f.name, why)
                break
        else:
            kept.append(pool)
    return FilterResult(tuple(kept), rejected)
