"""The embedded default's settings: every flag of ``python -m reconciler demo``."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from reconciler.embedded.replay import DEFAULT_COLLECTION

__all__ = ["DemoSettings"]

_REPO = Path(__file__).resolve().parents[2]


class DemoSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    data: Path = _REPO.parent / "shared" / "data"  # the public data
    out: Path = Path("var/demo")  # history, export, model, logs; a new run starts it afresh
    stack_file: Path = _REPO / "Pulumi.demo.yaml"  # the fleets, as the Pulumi program reads them
    fleet: str = "gen"  # the declared fleet that runs; every declared fleet's resources exist
    collection: str = DEFAULT_COLLECTION  # the capacity traces replayed as the market
    duration_s: float = Field(default=240.0, gt=0)  # wall seconds of live market
    ticks_per_s: float = Field(default=1.0, gt=0)  # trace ticks played per wall second
    seed_days: float = Field(default=7.0, gt=0)  # trace days written before the start
    nodes: int | None = Field(default=None, ge=1, le=20)  # fleet size; default: the declaration
    capacity_per_unit: int = Field(default=2, ge=1)  # nodes a trace's 1 (capacity) stands for
    jobs_per_minute: float = Field(default=60.0, ge=0)
    malformed_every: int = Field(default=12, ge=0)  # every n-th job is malformed; 0: none
    image_size: int = Field(default=32, ge=8, le=512)
    steps: int = Field(default=2, ge=1, le=50)
    notice_min_wall_s: float = Field(default=4.0, gt=0)  # a node always gets this long to drain
    # Market seconds from a launch to a serving node (the backtest's default); node processes
    # are started ahead (``warm_nodes`` of them), so the demo plays this, not their start-up.
    cold_start_s: float = Field(default=300.0, ge=0)
    warm_nodes: int | None = Field(default=None, ge=0, le=20)  # None: the fleet's most nodes
    drain_s: float = Field(default=60.0, ge=0)  # at the end: wait this long for queued jobs
    api_port: int = Field(default=8700, ge=0, le=65535)  # the daemon's status API and page
