"""The daemon's fleets from the stack itself: the declaration (``spotfleet:fleets`` in the stack
file) and the stack's outputs (``pulumi stack output fleets --json``), never a hand copy.

The stack names subnets; a pool is a zone, so each subnet's zone is looked up once, with
EC2's ``DescribeSubnets`` (the embedded default knows its own). The embedded default builds
its fleet with the same function, from the same declaration and its local resources.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from reconciler.core.aws import aws_call
from reconciler.core.errors import DaemonError
from reconciler.core.settings import DaemonSettings, FleetTarget
from stacks.errors import OutputsError, StackConfigError
from stacks.outputs import FleetOutputs, parse_fleet_outputs
from stacks.spec import FleetGroups, FleetSpec, parse_fleets

__all__ = [
    "FleetQueues",
    "fleet_target",
    "load_stack_fleets",
    "node_bounds",
    "shipped_on_demand_prices",
    "with_stack_fleets",
    "zones_of_subnets",
]

_SHIPPED = Path(__file__).resolve().parents[2] / "data" / "on-demand-g5.json"


@dataclass(frozen=True, slots=True)
class FleetQueues:
    """The queues a fleet's daemon reads (the stack's outputs of the same names)."""

    interruption_queue_url: str | None
    job_events_queue_url: str | None
    job_queue_urls: tuple[str, ...]


def node_bounds(spec: FleetSpec, nodes: int | None = None) -> tuple[int, int]:
    """The fleet's (min, max) nodes: as declared, or the embedded default's ``--nodes`` and
    twice that."""
    return (nodes, 2 * nodes) if nodes is not None else (spec.min_nodes, spec.max_nodes)


def fleet_target(
    spec: FleetSpec,
    *,
    region: str,
    zone_of_subnet: Mapping[str, str],
    groups: FleetGroups,
    queues: FleetQueues,
    on_demand_prices: Mapping[str, float],
    nodes: int | None = None,
) -> FleetTarget:
    """One fleet as the daemon acts on it. ``nodes`` (the embedded default's ``--nodes``) sets
    its minimum to that and its maximum to twice that."""
    missing = [s for s in spec.subnet_ids if s not in zone_of_subnet]
    if missing:
        raise DaemonError(f"fleet {spec.name}: no zone known for subnets {', '.join(missing)}")
    low, high = node_bounds(spec, nodes)
    spot_groups = {
        f"{region}/{zone_of_subnet[g.subnet_id]}/{g.instance_type}": g.group_name
        for g in groups.pools
    }
    return FleetTarget(
        name=spec.name,
        region=region,
        instance_types=spec.instance_types,
        subnets={zone_of_subnet[s]: s for s in spec.subnet_ids},
        min_nodes=low,
        max_nodes=high,
        on_demand_floor=spec.on_demand_base,
        budget_usd_per_hour=spec.budget_usd_per_hour,
        idle_to_zero_s=(
            spec.idle_scale_to_zero_minutes * 60.0
            if spec.idle_scale_to_zero_minutes is not None
            else None
        ),
        spot_groups=spot_groups,
        on_demand_group=groups.on_demand_group,
        interruption_queue_url=queues.interruption_queue_url,
        job_events_queue_url=queues.job_events_queue_url,
        job_queue_urls=queues.job_queue_urls,
        on_demand_prices={
            t: on_demand_prices[t] for t in spec.instance_types if t in on_demand_prices
        },
    )


def zones_of_subnets(ec2: Any, subnet_ids: list[str]) -> dict[str, str]:
    """subnet id -> its availability zone, from ``DescribeSubnets``."""
    with aws_call("ec2:DescribeSubnets"):
        subnets = ec2.describe_subnets(SubnetIds=subnet_ids)["Subnets"]
    return {str(s["SubnetId"]): str(s["AvailabilityZone"]) for s in subnets}


def load_stack_fleets(
    stack_file: Path,
    outputs_file: Path,
    *,
    ec2: Any,
    on_demand_prices: Mapping[str, float],
) -> tuple[FleetTarget, ...]:
    """Every fleet the stack file declares, with the groups and queues its outputs name."""
    try:
        config = (yaml.safe_load(stack_file.read_text()) or {}).get("config") or {}
        outputs = parse_fleet_outputs(json.loads(outputs_file.read_text()))
        specs = parse_fleets(config.get("spotfleet:fleets"))
    except (OSError, yaml.YAMLError, json.JSONDecodeError, StackConfigError, OutputsError) as exc:
        raise DaemonError(f"cannot read the stack's fleets: {exc}") from exc
    region = config.get("aws:region")
    if not isinstance(region, str):
        raise DaemonError(f"{stack_file}: config has no aws:region")
    unknown = [s.name for s in specs if s.name not in outputs]
    if unknown:
        raise DaemonError(
            f"{outputs_file} has no outputs for fleet {', '.join(unknown)}: run `pulumi up`, "
            "then `pulumi stack output fleets --json` again"
        )
    zones = zones_of_subnets(ec2, sorted({s for spec in specs for s in spec.subnet_ids}))
    return tuple(
        fleet_target(
            spec,
            region=region,
            zone_of_subnet=zones,
            groups=outputs[spec.name].groups,
            queues=_queues(outputs[spec.name]),
            on_demand_prices=on_demand_prices,
        )
        for spec in specs
    )


def _queues(out: FleetOutputs) -> FleetQueues:
    return FleetQueues(
        interruption_queue_url=out.interruption_queue_url,
        job_events_queue_url=out.job_events_queue_url,
        job_queue_urls=(out.job_queue_url, out.priority_queue_url),
    )


def shipped_on_demand_prices(region: str) -> dict[str, float]:
    """The on-demand list prices spotfleet ships (``data/``) for ``region``."""
    rows = json.loads(_SHIPPED.read_text())
    return {str(r["instance_type"]): float(r["price"]) for r in rows if r["region"] == region}


def with_stack_fleets(settings: DaemonSettings, ec2_for: Callable[[str], Any]) -> DaemonSettings:
    """``settings`` with its fleets read from ``stack_file`` and ``stack_outputs``, when both
    are set (and no fleet is declared by hand: one source of truth)."""
    if settings.stack_file is None or settings.stack_outputs is None:
        return settings
    if settings.fleets:
        raise DaemonError(
            "fleets are declared in the settings and read from the stack (stack_file): keep "
            "one; the stack's is the fleet that runs"
        )
    config = (yaml.safe_load(settings.stack_file.read_text()) or {}).get("config") or {}
    region = str(config.get("aws:region", ""))
    fleets = load_stack_fleets(
        settings.stack_file,
        settings.stack_outputs,
        ec2=ec2_for(region),
        on_demand_prices=shipped_on_demand_prices(region),
    )
    return settings.model_copy(update={"fleets": fleets})
