"""The config contract: what people declare (``spotfleet:fleets``), what the daemon writes
(``spotfleet:placements``), and the Auto Scaling groups a fleet is run on.

Plain pydantic, no Pulumi: the daemon imports this to build and check a placement before it
writes one and to name the groups it resizes; the Pulumi program imports it to refuse a bad
placement and to build the same groups; both get the same names and the same messages.

A fleet runs on one spot group per candidate pool (one instance type in one subnet) and one
on-demand group (every type, every subnet). A placement is a node count per pool plus an
on-demand count; each group's desired capacity is its count.

Keys are camelCase in config (``instanceTypes``) and snake_case in Python (``instance_types``);
models accept either.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

from pydantic import BaseModel, Field, StrictInt, StrictStr, ValidationError, field_validator

from stacks.config_messages import describe, shown
from stacks.errors import FleetConfigError, PlacementError
from stacks.fleet_spec import FleetSpec, config_model, matching
from stacks.naming import validate_prefix

__all__ = [
    "GROUP_NAME_MAX",
    "DesiredCapacity",
    "FleetGroups",
    "FleetSpec",
    "GroupKind",
    "Placement",
    "PoolCount",
    "PoolGroup",
    "candidate_pools",
    "check_placement",
    "desired_capacity",
    "fleet_groups",
    "parse_fleets",
    "parse_placement",
    "parse_placements",
    "placement_to_config",
    "placements_to_config",
    "placements_to_config_value",
]

_DECISION_ID = re.compile(r"^\S{1,128}$")
# AWS's limit on an Auto Scaling group's name.
GROUP_NAME_MAX: Final = 255

GroupKind = Literal["spot", "on-demand"]


class PoolCount(BaseModel):
    """How many nodes one spot pool (an instance type in a subnet, so in a zone) holds."""

    model_config = config_model()

    instance_type: StrictStr
    subnet_id: StrictStr
    nodes: StrictInt = Field(ge=0)


class Placement(BaseModel):
    """What the daemon decided for one fleet: nodes per spot pool, nodes on-demand.

    A pool it leaves out holds no node. ``pools`` may be empty (all on-demand, or idle).
    """

    model_config = config_model()

    pools: tuple[PoolCount, ...] = ()
    on_demand: StrictInt = Field(ge=0)
    decision_id: StrictStr
    reason: StrictStr

    _check_decision_id = field_validator("decision_id")(
        matching(_DECISION_ID, "1-128 characters without spaces")
    )

    @field_validator("pools")
    @classmethod
    def _each_pool_once(cls, pools: tuple[PoolCount, ...]) -> tuple[PoolCount, ...]:
        seen: set[tuple[str, str]] = set()
        for index, pool in enumerate(pools):
            pair = (pool.instance_type, pool.subnet_id)
            if pair in seen:
                raise ValueError(
                    f"pools[{index}] repeats {pool.instance_type} in {pool.subnet_id}; "
                    "list each pool once"
                )
            seen.add(pair)
        return pools

    @property
    def total_nodes(self) -> int:
        return sum(pool.nodes for pool in self.pools) + self.on_demand

    def nodes_in(self, instance_type: str, subnet_id: str) -> int:
        """The pool's count; 0 for a pool the placement leaves out."""
        return next(
            (
                p.nodes
                for p in self.pools
                if (p.instance_type, p.subnet_id) == (instance_type, subnet_id)
            ),
            0,
        )


@dataclass(frozen=True, slots=True)
class PoolGroup:
    """The spot group of one candidate pool."""

    instance_type: str
    subnet_id: str
    group_name: str


@dataclass(frozen=True, slots=True)
class FleetGroups:
    """Every group a fleet runs on: the spot groups in pool order, then the on-demand group."""

    pools: tuple[PoolGroup, ...]
    on_demand_group: str

    @property
    def names(self) -> tuple[str, ...]:
        return (*(pool.group_name for pool in self.pools), self.on_demand_group)

    def of_pool(self, instance_type: str, subnet_id: str) -> PoolGroup:
        for pool in self.pools:
            if (pool.instance_type, pool.subnet_id) == (instance_type, subnet_id):
                return pool
        raise KeyError(f"no group for {instance_type} in {subnet_id}: not a candidate pool")


@dataclass(frozen=True, slots=True)
class DesiredCapacity:
    """What each of a fleet's groups should hold: every candidate pool (0s included), in pool
    order, and the on-demand group."""

    pools: tuple[PoolCount, ...]
    on_demand: int


def candidate_pools(fleet: FleetSpec) -> tuple[tuple[str, str], ...]:
    """Every (instance type, subnet) the fleet declared, in pool order: type by type in
    declared order (the preferred type first), each across the subnets in declared order."""
    return tuple((t, s) for t in fleet.instance_types for s in fleet.subnet_ids)


def fleet_groups(fleet: FleetSpec, name_prefix: str) -> FleetGroups:
    """The fleet's group names: ``<prefix>-<fleet>-<type>-<subnet>`` per pool (a type has a
    dot, so none can clash with ``<prefix>-<fleet>-on-demand``). At most 20 + 20 + ~16 + 24
    characters, far under AWS's 255."""
    base = f"{validate_prefix(name_prefix)}-{fleet.name}"
    pools = tuple(
        PoolGroup(instance_type=t, subnet_id=s, group_name=f"{base}-{t}-{s}")
        for t, s in candidate_pools(fleet)
    )
    groups = FleetGroups(pools=pools, on_demand_group=f"{base}-on-demand")
    too_long = [name for name in groups.names if len(name) > GROUP_NAME_MAX]
    if too_long:  # cannot happen with validated names; say so loudly if the rules change
        raise FleetConfigError([f"group name {too_long[0]!r} is over {GROUP_NAME_MAX} characters"])
    return groups


def desired_capacity(fleet: FleetSpec, placement: Placement | None) -> DesiredCapacity:
    """Each group's desired capacity: the placement's counts (0 for a pool it leaves out).

    Without a placement: ``onDemandBase`` nodes on-demand, and the rest of ``minNodes`` one by
    one over the spot pools in pool order, so the preferred type is spread across the subnets
    before a second type is used.
    """
    pools = candidate_pools(fleet)
    if placement is not None:
        problems = check_placement(fleet, placement)
        if problems:
            raise PlacementError(problems)
        counts = [placement.nodes_in(t, s) for t, s in pools]
        on_demand = placement.on_demand
    else:
        counts = [0] * len(pools)
        for index in range(max(0, fleet.min_nodes - fleet.on_demand_base)):
            counts[index % len(pools)] += 1
        on_demand = fleet.on_demand_base
    return DesiredCapacity(
        pools=tuple(
            PoolCount(instance_type=t, subnet_id=s, nodes=n)
            for (t, s), n in zip(pools, counts, strict=True)
        ),
        on_demand=on_demand,
    )


def parse_fleets(raw: object) -> tuple[FleetSpec, ...]:
    """Validate the value of ``spotfleet:fleets``; raise :class:`FleetConfigError` naming
    every fleet and key that is wrong."""
    if not isinstance(raw, list) or not raw:
        raise FleetConfigError(
            [f"expected a non-empty list of fleets, got {shown(raw)}; see docs/pulumi.md"]
        )
    fleets: list[FleetSpec] = []
    problems: list[str] = []
    for index, item in enumerate(raw):
        where = _fleet_label(index, item)
        if not isinstance(item, dict):
            problems.append(f"{where}: expected an object with name, instanceTypes, ...")
            continue
        try:
            fleets.append(FleetSpec.model_validate(item))
        except ValidationError as exc:
            problems.extend(f"{where}: {describe(error, FleetSpec)}" for error in exc.errors())
    names = [fleet.name for fleet in fleets]
    for name in sorted({name for name in names if names.count(name) > 1}):
        problems.append(f"fleet '{name}' is declared twice; fleet names must be unique")
    if problems:
        raise FleetConfigError(problems)
    return tuple(fleets)


def parse_placement(fleet: FleetSpec, raw: object) -> Placement:
    """Validate one fleet's placement (as config holds it) against what the fleet declared."""
    if not isinstance(raw, dict):
        raise PlacementError(
            [
                f"fleet '{fleet.name}': expected an object with pools, onDemand, decisionId, "
                f"reason; got {shown(raw)}"
            ]
        )
    try:
        placement = Placement.model_validate(raw)
    except ValidationError as exc:
        raise PlacementError(
            [
                f"fleet '{fleet.name}': {describe(error, Placement, {'pools': PoolCount})}"
                for error in exc.errors()
            ]
        ) from exc
    problems = check_placement(fleet, placement)
    if problems:
        raise PlacementError(problems)
    return placement


def parse_placements(raw: object, fleets: Iterable[FleetSpec]) -> dict[str, Placement]:
    """Validate the value of ``spotfleet:placements`` (absent means no placements)."""
    if raw is None:
        return {}
    by_name = {fleet.name: fleet for fleet in fleets}
    if not isinstance(raw, dict):
        raise PlacementError(
            [f"expected an object mapping a fleet name to its placement, got {shown(raw)}"]
        )
    placements: dict[str, Placement] = {}
    problems: list[str] = []
    for name, item in raw.items():
        fleet = by_name.get(name)
        if fleet is None:
            declared = ", ".join(sorted(by_name)) or "none"
            problems.append(
                f"a placement for fleet {name!r}, which is not declared; "
                f"declared fleets: {declared}"
            )
            continue
        try:
            placements[name] = parse_placement(fleet, item)
        except PlacementError as exc:
            problems.extend(exc.problems)
    if problems:
        raise PlacementError(problems)
    return placements


def check_placement(fleet: FleetSpec, placement: Placement) -> list[str]:
    """What is wrong with ``placement`` for ``fleet`` (empty when it fits the declaration):
    a pool outside the fleet's candidates, or more nodes in all than twice ``maxNodes``."""
    problems: list[str] = []
    where = f"fleet '{fleet.name}'"
    for index, pool in enumerate(placement.pools):
        named = f"pools[{index}] ({pool.instance_type} in {pool.subnet_id})"
        if pool.instance_type not in fleet.instance_types:
            problems.append(
                f"{where}: {named}: instanceType {pool.instance_type!r} is not one the fleet "
                f"declared; allowed: {', '.join(fleet.instance_types)}"
            )
        if pool.subnet_id not in fleet.subnet_ids:
            problems.append(
                f"{where}: {named}: subnetId {pool.subnet_id!r} is not one the fleet "
                f"declared; allowed: {', '.join(fleet.subnet_ids)}"
            )
    total = placement.total_nodes
    # A move launches before it drains, so for a while a fleet may hold up to twice its
    # maxNodes (as an instance refresh's 200 % maximum healthy); never more.
    if total > 2 * fleet.max_nodes:
        counts = ", ".join(
            f"{p.instance_type} in {p.subnet_id}: {p.nodes}" for p in placement.pools if p.nodes
        )
        problems.append(
            f"{where}: the placement holds {total} nodes ({counts or 'no spot'}; on-demand "
            f"{placement.on_demand}), above twice the fleet's maxNodes ({fleet.max_nodes}); "
            f"allowed: at most {2 * fleet.max_nodes} in all (maxNodes, and as many again "
            "while moves launch before they drain)"
        )
    return problems


def placement_to_config(placement: Placement) -> dict[str, Any]:
    """``placement`` as the JSON object ``spotfleet:placements`` holds for its fleet."""
    return placement.model_dump(mode="json", by_alias=True)


def placements_to_config(placements: Mapping[str, Placement]) -> dict[str, dict[str, Any]]:
    """The whole ``spotfleet:placements`` value, fleets in name order."""
    return {name: placement_to_config(placements[name]) for name in sorted(placements)}


def placements_to_config_value(placements: Mapping[str, Placement]) -> str:
    """The JSON text to store as ``spotfleet:placements`` (Automation API ``ConfigValue``)."""
    return json.dumps(placements_to_config(placements), sort_keys=True)


def _fleet_label(index: int, item: object) -> str:
    name = item.get("name") if isinstance(item, dict) else None
    return f"fleet #{index} '{name}'" if isinstance(name, str) else f"fleet #{index}"
