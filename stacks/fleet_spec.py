"""What people declare in ``spotfleet:fleets``: one fleet, validated.

Plain pydantic, no Pulumi. ``stacks.spec`` re-exports :class:`FleetSpec`; import it from there.
Keys are camelCase in config (``instanceTypes``) and snake_case in Python (``instance_types``);
the model accepts either.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictFloat,
    StrictInt,
    StrictStr,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

__all__ = ["HOOK_DETECTION_LEAD_SECONDS", "FleetSpec", "config_model", "matching"]

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

_FOUR_DAYS = 4 * 24 * 3600
# How long a node may take to see its own termination in instance metadata (it polls every
# second; Auto Scaling updates the lifecycle state within seconds). The hook timeout is >= 30.
HOOK_DETECTION_LEAD_SECONDS = 10
_FOURTEEN_DAYS = 14 * 24 * 3600


def config_model() -> ConfigDict:
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


def matching(pattern: re.Pattern[str], allowed: str) -> Any:
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

    model_config = config_model()

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
        matching(
            _FLEET_NAME,
            "1-20 lowercase letters, digits and hyphens, starting with a letter and not "
            "ending with a hyphen (it becomes part of bucket and queue names)",
        )
    )
    _check_ami = field_validator("ami_id")(matching(_AMI_ID, "an AMI id like ami-0abc1234"))
    _check_model = field_validator("model")(
        matching(_MODEL, "a model name like stabilityai/sdxl-turbo (no spaces)")
    )
    _check_results_prefix = field_validator("results_prefix")(
        matching(_KEY_PREFIX, "an S3 key prefix ending in '/', like results/ (no '*')")
    )
    _check_device = field_validator("root_device_name")(
        matching(_DEVICE, "the AMI's root device, like /dev/sda1 or /dev/xvda")
    )

    @field_validator("instance_types")
    @classmethod
    def _check_instance_types(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        for value in values:
            matching(_INSTANCE_TYPE, "instance types like g5.xlarge")(value)
        _unique(values, "instance type")
        return values

    @field_validator("subnet_ids")
    @classmethod
    def _check_subnet_ids(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        for value in values:
            matching(_SUBNET_ID, "subnet ids like subnet-0abc1234")(value)
        _unique(values, "subnet")
        return values

    @field_validator("model_s3_uri")
    @classmethod
    def _check_model_s3_uri(cls, value: str | None) -> str | None:
        if value is not None:
            matching(_S3_URI, "an S3 URI like s3://bucket/models/sdxl/")(value)
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

    @property
    def node_drain_deadline_seconds(self) -> int:
        """The drain deadline a node takes when Auto Scaling terminates it (no notice time).

        A node sees the termination in instance metadata a little after the hook starts, and
        must complete the hook before it expires (else the instance goes mid-drain): so the
        hook's timeout less that lead.
        """
        return self.drain_timeout_seconds - HOOK_DETECTION_LEAD_SECONDS
