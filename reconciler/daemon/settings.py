"""The daemon's one settings object: a TOML file, then ``SPOTFLEET_DAEMON_*`` variables.

Built once in the entry point and passed down; nothing else reads the environment.
Precedence, highest first: constructor arguments, environment (nested keys joined with
``__``, e.g. ``SPOTFLEET_DAEMON_SAFETY__BUDGET_USD_PER_HOUR``), the TOML file, defaults.
docs/daemon.md lists every setting.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

__all__ = [
    "Cadences",
    "DaemonSettings",
    "FleetTarget",
    "Mode",
    "PulumiSettings",
    "SafetySettings",
    "ScalingSettings",
    "load_settings",
]

# shadow: record only; pulumi: `pulumi up` through the Automation API; local: the embedded
# default's local Auto Scaling group (only ``python -m reconciler demo`` has it).
Mode = Literal["shadow", "pulumi", "local"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FleetTarget(_Model):
    """One fleet as the daemon sees it: the declaration's numbers and its AWS resources
    (the stack's outputs ``autoScalingGroupName``, ``interruptionQueueUrl``, ...)."""

    name: str = Field(pattern=r"^[a-z][a-z0-9-]{0,30}$")
    region: str = "us-east-1"
    instance_types: tuple[str, ...] = Field(min_length=1)
    # zone name -> the fleet's subnet in it: a pool's zone becomes a subnet in the placement.
    subnets: dict[str, str] = Field(min_length=1)
    min_nodes: int = Field(default=0, ge=0)
    max_nodes: int = Field(default=10, ge=1)
    on_demand_floor: int = Field(default=0, ge=0)
    budget_usd_per_hour: float | None = Field(default=None, gt=0)
    autoscaling_group: str
    interruption_queue_url: str | None = None
    job_events_queue_url: str | None = None
    job_queue_urls: tuple[str, ...] = ()
    # $/h by instance type, used when the history has no on-demand price (no Pricing API).
    on_demand_prices: dict[str, float] = Field(default_factory=dict)

    def pools(self, zones: tuple[str, ...] | None = None) -> tuple[str, ...]:
        """Every candidate pool, ``region/zone/type``, in a stable order."""
        return tuple(
            f"{self.region}/{zone}/{itype}"
            for zone in sorted(zones if zones is not None else self.subnets)
            for itype in self.instance_types
        )


class Cadences(_Model):
    """Seconds between runs of each schedule job (retrain: once a day)."""

    prices_s: float = Field(default=300.0, gt=0)
    interruptions_s: float = Field(default=5.0, gt=0)
    job_events_s: float = Field(default=10.0, gt=0)
    fleet_s: float = Field(default=30.0, gt=0)
    reconcile_s: float = Field(default=300.0, gt=0)
    scale_s: float = Field(default=30.0, gt=0)
    retrain_s: float = Field(default=86400.0, gt=0)
    export_s: float = Field(default=3600.0, gt=0)


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


class DaemonSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="SPOTFLEET_DAEMON_",
        env_nested_delimiter="__",
        extra="forbid",
        frozen=True,
    )

    history_path: Path = Path("var/history.duckdb")
    lease_path: Path = Path("var/daemon.lease")
    export_dir: Path | None = None  # Parquet export for analysts; off without it
    model_path: Path | None = None  # a trained model folder; without it, the baseline decides
    mode: Mode = "shadow"  # the mode at start; POST /mode changes it while running
    api_host: str = "127.0.0.1"
    api_port: int = Field(default=8700, ge=0, le=65535)
    api_token: SecretStr | None = None  # without it, POST endpoints are off
    lookback_s: float = Field(default=7 * 86400.0, gt=0)  # history a decision reads
    training_lookback_s: float = Field(default=30 * 86400.0, gt=0)  # history retrain fits on
    grid_s: int = Field(default=300, gt=0)  # tick of the market series
    cold_start_s: float = Field(default=300.0, ge=0)
    # AWS does not say how much spot capacity a pool has: record a pool offered a price as able
    # to hold the fleet's maximum. Off where something measures capacity (the embedded market).
    capacity_from_prices: bool = True
    fleets: tuple[FleetTarget, ...] = ()
    cadences: Cadences = Cadences()
    safety: SafetySettings = SafetySettings()
    scaling: ScalingSettings = ScalingSettings()
    pulumi: PulumiSettings = PulumiSettings()

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


def load_settings(config: Path | None = None, **overrides: object) -> DaemonSettings:
    """Settings from ``config`` (TOML) and the environment; ``overrides`` win over both."""
    if config is not None and not config.is_file():
        raise FileNotFoundError(f"daemon config {config} does not exist")
    _CONFIG_FILE[0] = config
    try:
        return DaemonSettings(**overrides)  # type: ignore[arg-type]
    finally:
        _CONFIG_FILE[0] = None
