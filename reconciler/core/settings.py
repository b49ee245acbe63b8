"""The daemon's one settings object: a TOML file, then ``SPOTFLEET_DAEMON_*`` variables.

Built once in the entry point and passed down; nothing else reads the environment.
Precedence, highest first: constructor arguments, environment (nested keys joined with
``__``, e.g. ``SPOTFLEET_DAEMON_SAFETY__BUDGET_USD_PER_HOUR``), the TOML file, defaults.
docs/daemon.md lists every setting.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)
from pydantic_settings import SettingsError as PydanticSettingsError

from analytics.errors import AnalyticsError
from analytics.export_target import ExportTarget, parse_export_target
from analytics.pools import Pool
from gpu_node.logformat import LogFormat
from reconciler.core.settings_problems import SettingsError, describe, unknown_variables

__all__ = [
    "Cadences",
    "DaemonSettings",
    "FleetTarget",
    "LeaseKind",
    "LeaseSettings",
    "Mode",
    "PulumiSettings",
    "ReadinessSettings",
    "SafetySettings",
    "ScalingSettings",
    "SettingsError",
    "load_settings",
]

# The Spot Advisor file spotfleet ships, beside the repository (``../shared/data``).
# AWS publishes the Spot Advisor's bands here (the file the Spot Instance Advisor page reads).
AWS_ADVISOR_URL = "https://spot-bid-advisor.s3.amazonaws.com/spot-advisor-data.json"
# Where AWS serves the Pricing API (its endpoints; botocore's endpoint rules).
PRICING_REGIONS = ("us-east-1", "eu-central-1", "ap-south-1")

# shadow: record only; pulumi: `pulumi up` through the Automation API; local: the embedded
# default's local Auto Scaling group (only ``python -m reconciler demo`` has it).
Mode = Literal["shadow", "pulumi", "local"]

# file: a local flock (one host; the embedded default's); dynamodb: a conditional write with
# expiry in the stack's lease table, for daemons on different hosts.
LeaseKind = Literal["file", "dynamodb"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FleetTarget(_Model):
    """One fleet as the daemon sees it: the declaration's numbers and its AWS resources
    (the stack's outputs: its groups, ``interruptionQueueUrl``, ...)."""

    name: str = Field(pattern=r"^[a-z][a-z0-9-]{0,30}$")
    region: str = "us-east-1"
    instance_types: tuple[str, ...] = Field(min_length=1)
    # zone name -> the fleet's subnet in it: a pool's zone becomes a subnet in the placement.
    subnets: dict[str, str] = Field(min_length=1)
    min_nodes: int = Field(default=0, ge=0)
    max_nodes: int = Field(default=10, ge=1)
    on_demand_floor: int = Field(default=0, ge=0)
    budget_usd_per_hour: float | None = Field(default=None, gt=0)
    # The declaration's idleScaleToZeroMinutes, in seconds: without it, scaling's idle_to_zero_s.
    idle_to_zero_s: float | None = Field(default=None, gt=0)
    # The fleet's groups, as the stack's outputs name them (``spotGroups``, ``onDemandGroup``):
    # one spot group per candidate pool (``region/zone/type`` -> group name) and one
    # on-demand group. Left out, they are the stack's own names under ``group_prefix``.
    group_prefix: str = "spotfleet"
    spot_groups: dict[str, str] = Field(default_factory=dict)
    on_demand_group: str = ""
    interruption_queue_url: str | None = None
    job_events_queue_url: str | None = None
    job_queue_urls: tuple[str, ...] = ()
    # $/h by instance type, used when the history has no on-demand price (no Pricing API).
    on_demand_prices: dict[str, float] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _consistent(self) -> FleetTarget:
        problems = []
        if self.min_nodes > self.max_nodes:
            problems.append(f"min_nodes {self.min_nodes} is above max_nodes {self.max_nodes}")
        if self.on_demand_floor > self.max_nodes:
            problems.append(
                f"on_demand_floor {self.on_demand_floor} is above max_nodes {self.max_nodes}"
            )
        # A zone is its region and a letter (us-east-1a), or a Local or Wavelength Zone
        # (us-west-2-lax-1a): its name always starts with the region's.
        outside = [z for z in sorted(self.subnets) if not _in_region(z, self.region)]
        if outside:
            problems.append(
                f"subnets: zone {', '.join(outside)} is not in region {self.region}; a fleet "
                "lives in one region (declare another fleet for another region)"
            )
        extra = sorted(set(self.spot_groups) - set(self.pools()))
        if extra:
            problems.append(f"spot_groups: groups for pools not declared: {', '.join(extra)}")
        if problems:
            raise ValueError("; ".join(problems))
        # Frozen, but still being built: the defaults are filled in once, here.
        named = {p: self.spot_groups.get(p) or self._group_name(p) for p in self.pools()}
        object.__setattr__(self, "spot_groups", named)
        if not self.on_demand_group:
            object.__setattr__(
                self, "on_demand_group", f"{self.group_prefix}-{self.name}-on-demand"
            )
        return self

    def _group_name(self, pool: str) -> str:
        """The stack's name for the pool's group (``stacks.spec.fleet_groups``)."""
        p = Pool.parse(pool)
        return f"{self.group_prefix}-{self.name}-{p.instance_type}-{self.subnets[p.zone]}"

    def groups(self) -> tuple[str, ...]:
        """Every group of the fleet: the spot groups in pool order, then the on-demand group."""
        return (*(self.spot_groups[p] for p in self.pools()), self.on_demand_group)

    def pool_of_group(self) -> dict[str, Pool | None]:
        """Group name -> the pool it launches into (None: the on-demand group)."""
        out: dict[str, Pool | None] = {g: Pool.parse(p) for p, g in self.spot_groups.items()}
        out[self.on_demand_group] = None
        return out

    def pools(self, zones: tuple[str, ...] | None = None) -> tuple[str, ...]:
        """Every candidate pool, ``region/zone/type``, in a stable order."""
        return tuple(
            f"{self.region}/{zone}/{itype}"
            for zone in sorted(zones if zones is not None else self.subnets)
            for itype in self.instance_types
        )


def _export_target(value: object) -> object:
    """Text is parsed here, never as a Path: ``Path("s3://b/p")`` is the folder ``s3:/b/p``."""
    if not isinstance(value, str):
        return value
    try:
        return parse_export_target(value)
    except AnalyticsError as exc:
        raise ValueError(str(exc)) from exc


class Cadences(_Model):
    """Seconds between runs of each schedule job (retrain: once a day)."""

    prices_s: float = Field(default=300.0, gt=0)
    interruptions_s: float = Field(default=5.0, gt=0)
    job_events_s: float = Field(default=10.0, gt=0)
    fleet_s: float = Field(default=30.0, gt=0)
    # The one controller: demand, plan, guards and the groups' counts, every half minute (a
    # reconcile of 500 pools takes well under a second; warnings reconcile at once).
    reconcile_s: float = Field(default=30.0, gt=0)
    stack_sync_s: float = Field(default=300.0, gt=0)  # the placement in force into the stack
    retrain_s: float = Field(default=86400.0, gt=0)
    export_s: float = Field(default=3600.0, gt=0)
    # GetSpotPlacementScores: AWS caps the *new* configurations an account asks per 24 hours
    # (about ten); a configuration used in the last 24 h may be asked again, and AWS's own
    # score tracker asks each one every 5 minutes. A fleet is one configuration, so 5 minutes.
    # The backtest's planner gets scores at this cadence too (one setting).
    placement_scores_s: float = Field(default=300.0, gt=0)
    advisor_s: float = Field(default=86400.0, gt=0)  # the Spot Advisor's bands, from advisor_source
    on_demand_prices_s: float = Field(default=86400.0, gt=0)  # the Pricing API (or shipped list)
    history_s: float = Field(default=30.0, gt=0)  # a heartbeat write: is the history writable


class SafetySettings(_Model):
    churn_per_hour: int = Field(default=4, ge=0)  # nodes a placement change may roll per hour
    min_dwell_s: float = Field(default=1800.0, ge=0)  # a placement stays at least this long
    stale_after_s: float = Field(default=900.0, gt=0)  # refuse changes on older market data
    breaker_failures: int = Field(default=3, ge=1)  # consecutive failed actuations that open it
    risky_mark_s: float = Field(default=1800.0, gt=0)  # how long a warned pool stays risky
    warning_loss: float = Field(default=0.95, ge=0, le=1)  # loss a warned pool is taken to have
    rebalance_loss: float = Field(default=0.40, ge=0, le=1)  # ... after a rebalance recommendation
    # An event still acts this long past its own deadline: 0 on AWS; the embedded default,
    # whose market clock runs faster than its queue is read, gives its longer notice.
    event_grace_s: float = Field(default=0.0, ge=0)
    # A pool that refused a launch takes none for this long (Karpenter's unavailable offerings).
    unavailable_s: float = Field(default=180.0, gt=0)
    # How long a reconcile waits (wall seconds) for a raised group to launch or say it cannot.
    launch_settle_s: float = Field(default=20.0, ge=0)


class ReadinessSettings(_Model):
    """When /readyz says a signal is stale: no successful run of its job for ``missed_runs``
    of its cadences, and never sooner than ``min_stale_s`` (wall seconds)."""

    missed_runs: float = Field(default=3.0, gt=1)
    min_stale_s: float = Field(default=30.0, ge=0)

    def stale_after_s(self, every_s: float) -> float:
        return max(self.missed_runs * every_s, self.min_stale_s)


class ScalingSettings(_Model):
    acceptable_latency_s: float = Field(default=300.0, gt=0)
    default_seconds_per_job: float = Field(default=30.0, gt=0)  # until the job history says
    job_window_s: float = Field(default=3600.0, gt=0)  # how far back the average reaches
    idle_to_zero_s: float = Field(default=1800.0, gt=0)  # empty queues this long: zero nodes


class PulumiSettings(_Model):
    work_dir: Path = Path(".")
    stack: str = "dev"
    retries: int = Field(default=5, ge=0)  # on ConcurrentUpdateError
    backoff_s: float = Field(default=10.0, ge=0)  # doubled after each retry


class LeaseSettings(_Model):
    """Which lease keeps a second daemon from acting (``lease_path`` is the file lease's)."""

    kind: LeaseKind = "file"
    table: str | None = Field(default=None, min_length=3, max_length=255)  # daemonLeaseTable
    # The item in the table: daemons sharing a name exclude each other (one per set of fleets).
    name: str = Field(default="spotfleet", min_length=1, max_length=255)
    region: str = "us-east-1"
    expiry_s: float = Field(default=15.0, gt=0)  # a standby may take over this long after
    renew_s: float = Field(default=5.0, gt=0)  # the leader renews (and a standby polls) this often

    @model_validator(mode="after")
    def _consistent(self) -> LeaseSettings:
        problems = []
        if self.kind == "dynamodb" and self.table is None:
            problems.append(
                'kind "dynamodb" needs table: the stack\'s output daemonLeaseTable '
                "(pulumi stack output daemonLeaseTable)"
            )
        if self.renew_s * 3 > self.expiry_s:
            problems.append(
                f"renew_s {self.renew_s:g} must be at most a third of expiry_s "
                f"{self.expiry_s:g}: the leader stops acting one renew_s before the lease "
                "expires and needs time to retry a throttled renewal"
            )
        if problems:
            raise ValueError("; ".join(problems))
        return self


class DaemonSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="SPOTFLEET_DAEMON_",
        env_nested_delimiter="__",
        extra="forbid",
        frozen=True,
    )

    history_path: Path = Path("var/history.duckdb")
    lease_path: Path = Path("var/daemon.lease")  # the file lease (lease.kind "file")
    # Parquet export for analysts, a folder or s3://bucket/prefix; off without it.
    export_dir: Annotated[ExportTarget | None, BeforeValidator(_export_target)] = None
    model_path: Path | None = None  # a trained model folder; without it, the baseline decides
    mode: Mode = "shadow"  # the mode at start; POST /mode changes it while running
    api_host: str = "127.0.0.1"
    api_port: int = Field(default=8700, ge=0, le=65535)
    api_token: SecretStr | None = None  # without it, POST endpoints are off
    log_format: LogFormat = "text"  # json: one object per line (run --log-format wins)
    lookback_s: float = Field(default=7 * 86400.0, gt=0)  # history a decision reads
    training_lookback_s: float = Field(default=30 * 86400.0, gt=0)  # history retrain fits on
    # The most recent days a candidate is not fitted on: it is scored there against the live
    # model and the baseline, and decides only if it beats both.
    model_evaluation_s: float = Field(default=2 * 86400.0, gt=0)
    grid_s: int = Field(default=300, gt=0)  # tick of the market series
    cold_start_s: float = Field(default=300.0, ge=0)
    # AWS does not say how much spot capacity a pool has: record a pool offered a price as able
    # to hold the fleet's maximum. Off where something measures capacity (the embedded market).
    capacity_from_prices: bool = True
    # GetSpotPlacementScores on its cadence; off where the API is not offered (an emulator
    # without it, such as moto), so its signal is neither collected nor watched.
    placement_scores: bool = True
    # The Spot Advisor file (an http(s) URL, by default AWS's own, or a path), read every
    # advisor_s; "" turns the job off.
    advisor_source: str = AWS_ADVISOR_URL
    # On-demand prices from the Pricing API (pricing:GetProducts); off (or unreachable), the
    # shipped list. The API answers in a few regions only, for every region's prices.
    pricing_api: bool = True
    pricing_region: str = "us-east-1"
    fleets: tuple[FleetTarget, ...] = ()
    # The fleets from the stack itself: its file (``Pulumi.<stack>.yaml``: the declaration) and
    # its outputs (``pulumi stack output fleets --json > FILE``); then ``fleets`` stays empty.
    stack_file: Path | None = None
    stack_outputs: Path | None = None
    cadences: Cadences = Cadences()
    safety: SafetySettings = SafetySettings()
    scaling: ScalingSettings = ScalingSettings()
    pulumi: PulumiSettings = PulumiSettings()
    readiness: ReadinessSettings = ReadinessSettings()
    lease: LeaseSettings = LeaseSettings()

    @model_validator(mode="after")
    def _fleet_names_unique(self) -> DaemonSettings:
        names = [f.name for f in self.fleets]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"fleets: the name {', '.join(repeated)} is declared more than once")
        return self

    @field_validator("advisor_source")
    @classmethod
    def _advisor_source(cls, value: str) -> str:
        scheme = value.partition("://")[0] if "://" in value else None
        if scheme is not None and scheme not in ("http", "https"):
            raise ValueError(
                f"{value!r} is neither a file path nor an http(s) URL (e.g. "
                'https://spot-bid-advisor.s3.amazonaws.com/spot-advisor-data.json); "" is off'
            )
        return value

    @field_validator("pricing_region")
    @classmethod
    def _pricing_region(cls, value: str) -> str:
        if value not in PRICING_REGIONS:
            raise ValueError(
                f"the Pricing API is not served in {value!r}: use one of "
                f"{', '.join(PRICING_REGIONS)} (each answers for every region's prices)"
            )
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_file = _CONFIG_FILE[0]
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if toml_file is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml_file))
        return tuple(sources)

    def fleet(self, name: str) -> FleetTarget:
        for fleet in self.fleets:
            if fleet.name == name:
                return fleet
        raise KeyError(name)


# pydantic-settings chooses sources on the class; the file is passed through this slot so
# that load_settings stays the one way in (set and cleared around construction).
_CONFIG_FILE: list[Path | None] = [None]


def _in_region(zone: str, region: str) -> bool:
    rest = zone.removeprefix(region)
    return rest != zone and ((rest.isalpha() and len(rest) == 1) or rest.startswith("-"))


def load_settings(
    config: Path | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    **overrides: object,
) -> DaemonSettings:
    """Settings from ``config`` (TOML) and the environment; ``overrides`` win over both.

    Every problem is reported at once as :class:`SettingsError`, one line per key: an
    unknown ``SPOTFLEET_DAEMON_*`` variable, a bad value, a contradiction.
    """
    if config is not None and not config.is_file():
        raise FileNotFoundError(f"daemon config {config} does not exist")
    env = os.environ if environ is None else environ
    problems = unknown_variables(env, DaemonSettings)
    if problems:
        raise SettingsError(problems)
    _CONFIG_FILE[0] = config
    try:
        return DaemonSettings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise SettingsError(describe(exc, DaemonSettings, env)) from exc
    except (PydanticSettingsError, tomllib.TOMLDecodeError) as exc:
        cause = exc.__cause__ or exc  # pydantic-settings wraps a bad JSON value
        raise SettingsError([f"{exc} ({cause})" if cause is not exc else str(exc)]) from exc
    finally:
        _CONFIG_FILE[0] = None
