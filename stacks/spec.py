"""The config contract: what people declare (``spotfleet:fleets``) and what the daemon writes
(``spotfleet:placements``), and how a fleet plus its placement becomes the group's settings.

Plain pydantic, no Pulumi: the daemon imports this to build and check a placement before it
writes one, the Pulumi program imports it to refuse a bad one, and both get the same message.

Keys are camelCase in config (``instanceTypes``) and snake_case in Python (``instance_types``);
models accept either.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel
from pydantic_core import ErrorDetails

from stacks.errors import FleetConfigError, PlacementError

__all__ = [
    "PRICE_STRATEGY",
    "PRIORITIZED_STRATEGY",
    "FleetSpec",
    "InstanceOverride",
    "Placement",
    "PoolChoice",
    "ResolvedFleet",
    "SpotAllocationStrategy",
    "check_placement",
    "parse_fleets",
    "parse_placement",
    "parse_placements",
    "placement_to_config",
    "placements_to_config",
    "placements_to_config_value",
    "resolve",
]

SpotAllocationStrategy = Literal["capacity-optimized-prioritized", "price-capacity-optimized"]
# With a placement the daemon has ranked the pools, so the group must honour its order; without
# one nobody has, so let EC2 weigh price against the depth of each pool.
PRIORITIZED_STRATEGY: Final[SpotAllocationStrategy] = "capacity-optimized-prioritized"
PRICE_STRATEGY: Final[SpotAllocationStrategy] = "price-capacity-optimized"

# A fleet name ends up inside bucket, queue, role and group names; 20 characters keeps the
# longest of them (a bucket: 63 characters at most) within AWS's limits.
_FLEET_NAME = re.compile(r"^[a-z](?:[a-z0-9-]{0,18}[a-z0-9])?$")
_INSTANCE_TYPE = re.compile(r"^[a-z][a-z0-9-]*\.[a-z0-9]+$")
_SUBNET_ID = re.compile(r"^subnet-(?:[0-9a-f]{8}|[0-9a-f]{17})$")
_AMI_ID = re.compile(r"^ami-(?:[0-9a-f]{8}|[0-9a-f]{17})$")
_MODEL = re.compile(r"^[A-Za-z0-9._-]+(?:/[A-Za-z0-9._-]+)*$")
_S3_URI = re.compile(r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](?:/[^\s]*)?$")
_KEY_PREFIX = re.compile(r"^[A-Za-z0-9._-]+(?:/[A-Za-z0-9._-]+)*/$")
_DEVICE = re.compile(r"^/dev/[a-z0-9]+$")
_DECISION_ID = re.compile(r"^\S{1,128}$")

_FOUR_DAYS = 4 * 24 * 3600
_FOURTEEN_DAYS = 14 * 24 * 3600


def _config() -> ConfigDict:
    return ConfigDict(
        alias_generator=to_camel,
        validate_by_alias=True,
        validate_by_name=True,
        serialize_by_alias=True,
        extra="forbid",
        frozen=True,
        # model_s3_uri, model_dir are ours, not pydantic's.
        protected_namespaces=(),
    )


def _matching(pattern: re.Pattern[str], allowed: str) -> Any:
    """A field validator body: the value must match ``pattern``; the error says what is allowed."""

    def check(value: str) -> str:
        if not pattern.fullmatch(value):
            raise ValueError(f"{value!r} is not allowed; expected {allowed}")
        return value

    return check


def _unique(values: Sequence[str], what: str) -> None:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise ValueError(f"{value!r} is listed twice; list each {what} once")
        seen.add(value)


class FleetSpec(BaseModel):
    """One fleet as a platform engineer declares it in ``spotfleet:fleets``."""

    model_config = _config()

    name: StrictStr
    instance_types: tuple[StrictStr, ...] = Field(min_length=1)
    subnet_ids: tuple[StrictStr, ...] = Field(min_length=1)
    ami_id: StrictStr
    min_nodes: StrictInt = Field(ge=0)
    max_nodes: StrictInt = Field(ge=1, le=1000)
    on_demand_base: StrictInt = Field(default=0, ge=0)
    model: StrictStr
    model_s3_uri: StrictStr | None = None
    model_dir: StrictStr = "/opt/spotfleet/models"
    visibility_timeout_seconds: StrictInt = Field(default=900, ge=30, le=43200)
    max_receive_count: StrictInt = Field(default=3, ge=1, le=1000)
    message_retention_seconds: StrictInt = Field(default=_FOUR_DAYS, ge=60, le=_FOURTEEN_DAYS)
    lifecycle_hook_timeout_seconds: StrictInt | None = Field(default=None, ge=30, le=7200)
    root_volume_gib: StrictInt = Field(default=200, ge=30, le=16384, alias="rootVolumeGiB")
    root_device_name: StrictStr = "/dev/sda1"
    budget_usd_per_hour: StrictFloat | None = Field(default=None, gt=0)
    idle_scale_to_zero_minutes: StrictInt | None = Field(default=None, ge=1, le=10080)
    results_prefix: StrictStr = "results/"
    results_expiry_days: StrictInt = Field(default=30, ge=1, le=3650)
    node_package: StrictStr = "spotfleet[node]"

    _check_name = field_validator("name")(
        _matching(
            _FLEET_NAME,
            "1-20 lowercase letters, digits and hyphens, starting with a letter and not "
            "ending with a hyphen (it becomes part of bucket and queue names)",
        )
    )
    _check_ami = field_validator("ami_id")(_matching(_AMI_ID, "an AMI id like ami-0abc1234"))
    _check_model = field_validator("model")(
        _matching(_MODEL, "a model name like stabilityai/sdxl-turbo (no spaces)")
    )
    _check_results_prefix = field_validator("results_prefix")(
        _matching(_KEY_PREFIX, "an S3 key prefix ending in '/', like results/ (no '*')")
    )
    _check_device = field_validator("root_device_name")(
        _matching(_DEVICE, "the AMI's root device, like /dev/sda1 or /dev/xvda")
    )

    @field_validator("instance_types")
    @classmethod
    def _check_instance_types(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        for value in values:
            _matching(_INSTANCE_TYPE, "instance types like g5.xlarge")(value)
        _unique(values, "instance type")
        return values

    @field_validator("subnet_ids")
    @classmethod
    def _check_subnet_ids(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        for value in values:
            _matching(_SUBNET_ID, "subnet ids like subnet-0abc1234")(value)
        _unique(values, "subnet")
        return values

    @field_validator("model_s3_uri")
    @classmethod
    def _check_model_s3_uri(cls, value: str | None) -> str | None:
        if value is not None:
            _matching(_S3_URI, "an S3 URI like s3://bucket/models/sdxl/")(value)
        return value

    @field_validator("model_dir")
    @classmethod
    def _check_model_dir(cls, value: str) -> str:
        if not value.startswith("/") or any(ch.isspace() for ch in value):
            raise ValueError(f"{value!r} is not allowed; expected an absolute path without spaces")
        return value

    @field_validator("node_package")
    @classmethod
    def _check_node_package(cls, value: str) -> str:
        if not value.strip() or "\n" in value:
            raise ValueError(
                f"{value!r} is not allowed; expected what pip installs on the node, "
                "like spotfleet[node]==0.1.0, on one line"
            )
        return value

    @model_validator(mode="after")
    def _check_sizes(self) -> FleetSpec:
        if self.min_nodes > self.max_nodes:
            raise ValueError(
                f"minNodes ({self.min_nodes}) is above maxNodes ({self.max_nodes}); "
                "minNodes must be at most maxNodes"
            )
        if self.on_demand_base > self.max_nodes:
            raise ValueError(
                f"onDemandBase ({self.on_demand_base}) is above maxNodes ({self.max_nodes}); "
                "it must be at most maxNodes"
            )
        if self.idle_scale_to_zero_minutes is not None and self.min_nodes != 0:
            raise ValueError(
                f"idleScaleToZeroMinutes needs minNodes 0 (it is {self.min_nodes}); "
                "set minNodes to 0 or drop idleScaleToZeroMinutes"
            )
        return self

    @property
    def drain_timeout_seconds(self) -> int:
        """How long a leaving node may take to finish its job: the termination hook's timeout.

        By default a job's visibility timeout (a job fits in it), at least two minutes and at
        most the two hours a lifecycle hook allows.
        """
        if self.lifecycle_hook_timeout_seconds is not None:
            return self.lifecycle_hook_timeout_seconds
        return min(7200, max(120, self.visibility_timeout_seconds))


class PoolChoice(BaseModel):
    """One chosen pool: an instance type in a subnet (so in a zone), with its capacity weight.

    ``weight`` is the group's ``weightedCapacity`` for that instance type: how many units of
    ``minNodes``/``maxNodes``/desired capacity one instance counts for. A type has one weight.
    """

    model_config = _config()

    instance_type: StrictStr
    subnet_id: StrictStr
    weight: StrictInt = Field(default=1, ge=1, le=999)


class Placement(BaseModel):
    """What the daemon decided for one fleet: pools in priority order, the on-demand base."""

    model_config = _config()

    pools: tuple[PoolChoice, ...] = Field(min_length=1)
    on_demand_base: StrictInt = Field(ge=0)
    decision_id: StrictStr
    reason: StrictStr

    _check_decision_id = field_validator("decision_id")(
        _matching(_DECISION_ID, "1-128 characters without spaces")
    )

    @model_validator(mode="after")
    def _check_pools(self) -> Placement:
        seen: set[tuple[str, str]] = set()
        weights: dict[str, int] = {}
        for index, pool in enumerate(self.pools):
            pair = (pool.instance_type, pool.subnet_id)
            if pair in seen:
                raise ValueError(
                    f"pools[{index}] repeats {pool.instance_type} in {pool.subnet_id}; "
                    "list each pool once"
                )
            seen.add(pair)
            weight = weights.setdefault(pool.instance_type, pool.weight)
            if weight != pool.weight:
                raise ValueError(
                    f"pools[{index}] gives {pool.instance_type} weight {pool.weight} but an "
                    f"earlier pool gave it {weight}; an instance type has one weight"
                )
        return self


@dataclass(frozen=True, slots=True)
class InstanceOverride:
    """One entry of the group's mixed-instances overrides."""

    instance_type: str
    weighted_capacity: int


@dataclass(frozen=True, slots=True)
class ResolvedFleet:
    """A fleet plus its placement, as the Auto Scaling group takes it.

    ``overrides`` and ``subnet_ids`` are in priority order. A group cannot tie an instance type
    to a subnet, so the pools a placement names become every chosen type in every chosen
    subnet; the order of first appearance is the priority.
    """

    overrides: tuple[InstanceOverride, ...]
    subnet_ids: tuple[str, ...]
    on_demand_base: int
    spot_allocation_strategy: SpotAllocationStrategy
    decision_id: str | None


def parse_fleets(raw: object) -> tuple[FleetSpec, ...]:
    """Validate the value of ``spotfleet:fleets``; raise :class:`FleetConfigError` naming
    every fleet and key that is wrong."""
    if not isinstance(raw, list) or not raw:
        raise FleetConfigError(
            [f"expected a non-empty list of fleets, got {_shown(raw)}; see docs/pulumi.md"]
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
            problems.extend(f"{where}: {_describe(error, FleetSpec)}" for error in exc.errors())
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
                f"fleet '{fleet.name}': expected an object with pools, onDemandBase, decisionId, "
                f"reason; got {_shown(raw)}"
            ]
        )
    try:
        placement = Placement.model_validate(raw)
    except ValidationError as exc:
        raise PlacementError(
            [f"fleet '{fleet.name}': {_describe(error, Placement)}" for error in exc.errors()]
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
            [f"expected an object mapping a fleet name to its placement, got {_shown(raw)}"]
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
    """What is wrong with ``placement`` for ``fleet`` (empty when it fits the declaration)."""
    problems: list[str] = []
    where = f"fleet '{fleet.name}'"
    for index, pool in enumerate(placement.pools):
        if pool.instance_type not in fleet.instance_types:
            problems.append(
                f"{where}: pools[{index}].instanceType {pool.instance_type!r} is not one the "
                f"fleet declared; allowed: {', '.join(fleet.instance_types)}"
            )
        if pool.subnet_id not in fleet.subnet_ids:
            problems.append(
                f"{where}: pools[{index}].subnetId {pool.subnet_id!r} is not one the fleet "
                f"declared; allowed: {', '.join(fleet.subnet_ids)}"
            )
    if placement.on_demand_base > fleet.max_nodes:
        problems.append(
            f"{where}: onDemandBase {placement.on_demand_base} is above the fleet's maxNodes "
            f"({fleet.max_nodes}); allowed: 0 to {fleet.max_nodes}"
        )
    return problems


def resolve(fleet: FleetSpec, placement: Placement | None = None) -> ResolvedFleet:
    """The group's overrides, subnets, on-demand base and strategy for ``fleet``.

    Without a placement every declared candidate is used, in declared order, weight 1, with the
    fleet's own ``onDemandBase``.
    """
    if placement is None:
        return ResolvedFleet(
            overrides=tuple(InstanceOverride(t, 1) for t in fleet.instance_types),
            subnet_ids=fleet.subnet_ids,
            on_demand_base=fleet.on_demand_base,
            spot_allocation_strategy=PRICE_STRATEGY,
            decision_id=None,
        )
    problems = check_placement(fleet, placement)
    if problems:
        raise PlacementError(problems)
    weights: dict[str, int] = {}
    subnets: dict[str, None] = {}
    for pool in placement.pools:
        weights.setdefault(pool.instance_type, pool.weight)
        subnets.setdefault(pool.subnet_id, None)
    return ResolvedFleet(
        overrides=tuple(InstanceOverride(t, w) for t, w in weights.items()),
        subnet_ids=tuple(subnets),
        on_demand_base=placement.on_demand_base,
        spot_allocation_strategy=PRIORITIZED_STRATEGY,
        decision_id=placement.decision_id,
    )


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


def _describe(error: ErrorDetails, model: type[BaseModel]) -> str:
    """One pydantic error as 'key: what was wrong; what is allowed'."""
    key = _key(error["loc"])
    kind = error["type"]
    if kind == "missing":
        return f"{key}: missing; it is required"
    if kind == "extra_forbidden":
        allowed = _allowed_keys(model, error["loc"])
        close = difflib.get_close_matches(str(error["loc"][-1]), allowed, n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        return f"{key}: unknown key{hint}; allowed keys: {', '.join(allowed)}"
    if kind == "too_short":
        at_least = (error.get("ctx") or {}).get("min_length", 1)
        return f"{key}: must list at least {at_least}, got {_shown(error['input'])}"
    if kind in {"tuple_type", "list_type"}:
        return f"{key}: expected a list, got {_shown(error['input'])}"
    if kind == "value_error":
        cause = (error.get("ctx") or {}).get("error")
        message = str(cause) if cause is not None else error["msg"]
        return f"{key}: {message}" if key else message
    message = f"{error['msg']}, got {_shown(error['input'])}"
    return f"{key}: {message}" if key else message


def _key(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part.startswith("function-after") or part in {"int", "float", "str", "none"}:
            continue  # pydantic names the branch of a union it tried; the key is enough
        else:
            text += f".{part}" if text else part
    return text


def _allowed_keys(model: type[BaseModel], loc: tuple[int | str, ...]) -> list[str]:
    # An unknown key inside pools[i] belongs to PoolChoice, not to Placement.
    target = PoolChoice if model is Placement and len(loc) > 1 else model
    return [field.alias or name for name, field in target.model_fields.items()]


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
