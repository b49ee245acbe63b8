"""One typed settings object per node process, read from the environment (``SPOTFLEET_*``).

On a node the environment comes from the instance's tags (see ``userdata``); locally it is
set by hand. Features switch on when their setting is present: no topic, no events; no
model URI, no sync; no lifecycle hook, no lifecycle completion.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from gpu_node.errors import SettingsError

__all__ = ["DEFAULT_IMDS_URL", "NodeSettings", "load_settings"]

DEFAULT_IMDS_URL = "http://169.254.169.254"


class NodeSettings(BaseSettings):
    """Every setting of the node; the environment variable is ``SPOTFLEET_`` + the upper name."""

    model_config = SettingsConfigDict(env_prefix="SPOTFLEET_", frozen=True, extra="ignore")

    # Where work comes from and goes to.
    queue_url: str
    priority_queue_url: str | None = None
    dead_letter_queue_url: str | None = None  # else: the queue's own redrive policy target
    results_bucket: str
    events_topic_arn: str | None = None
    fleet: str | None = None

    # The model.
    model_dir: Path = Path("/opt/spotfleet/model")
    model_s3_uri: str | None = None
    model_name: str | None = None  # else: the model directory's name
    model_sync_concurrency: int = Field(default=8, ge=1, le=64)
    cpu_threads: int = Field(default=1, ge=1, le=256)

    # The node's identity: read from IMDS unless set here (local runs, tests).
    imds_url: str = DEFAULT_IMDS_URL
    instance_id: str | None = None
    instance_type: str | None = None
    availability_zone: str | None = None
    region: str | None = None

    # Interruption and drain.
    imds_poll_seconds: float = Field(default=1.0, gt=0, le=2.0)
    drain_deadline_seconds: float = Field(default=110.0, gt=0)
    drain_margin_seconds: float = Field(default=15.0, ge=0)
    # How long before an EC2 scheduled event's start the node drains for it.
    maintenance_lead_seconds: float = Field(default=600.0, gt=0, le=86400)
    lifecycle_hook: str | None = None
    asg_name: str | None = None

    # The worker.
    poll_wait_seconds: int = Field(default=20, ge=0, le=20)
    visibility_seconds: int = Field(default=60, ge=2, le=43200)
    progress_event_seconds: float = Field(default=5.0, ge=0)

    # The health API.
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)

    @field_validator("imds_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @property
    def served_model(self) -> str:
        """The name jobs may ask for in ``model`` and results record."""
        return self.model_name or self.model_dir.name


def load_settings() -> NodeSettings:
    """Read the environment; a missing or bad setting becomes a ``SettingsError`` naming it."""
    try:
        return NodeSettings()  # type: ignore[call-arg]  # required fields come from the env
    except ValidationError as exc:
        problems = "; ".join(
            f"SPOTFLEET_{'.'.join(str(p) for p in err['loc']).upper()}: {err['msg']}"
            for err in exc.errors()
        )
        raise SettingsError(problems) from exc
