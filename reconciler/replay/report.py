"""Backtest output: REPLAY.md's JSON list, the margins' JSON, and the terminal table."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

from rich.markup import escape
from rich.table import Table

from reconciler.replay.engine import ReplayResult

__all__ = ["results_table", "write_frontier_json", "write_json"]


def write_json(results: Sequence[ReplayResult], path: Path) -> None:
    """Exactly REPLAY.md's list of objects, one per policy."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps([r.as_json() for r in results], indent=2) + "\n")


def write_frontier_json(margins: Mapping[str, float], path: Path) -> None:
    """``{"policy": margin}``: each spotfleet policy's availability minus the peers' frontier."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(dict(margins), indent=2) + "\n")


def results_table(
    results: Sequence[ReplayResult], title: str, margins: Mapping[str, float] | None = None
) -> Table:
    """One row per policy; ``margin`` (availability minus the peers' frontier at its cost)
    for spotfleet's policies when peers ran."""
    margins = margins or {}
    table = Table(title=title)
    for col in (
        "policy",
        "cost_ratio",
        "availability",
        "margin",
        "ready",
        "preempt",
        "fail",
        "launches",
        "od h",
        "spot h",
        "$",
    ):
        table.add_column(col, justify="left" if col == "policy" else "right", no_wrap=True)
    for r in results:
        table.add_row(
            escape(r.policy),  # a sweep point's "[setting=value]" is not rich markup
            f"{r.cost_ratio:.4f}",
            f"{r.availability:.4f}",
            f"{margins[r.policy]:+.4f}" if r.policy in margins else "",
            f"{r.mean_ready_fraction:.4f}",
            str(r.preemptions),
            str(r.launch_failures),
            str(r.launches),
            f"{r.on_demand_node_hours:.1f}",
            f"{r.spot_node_hours:.1f}",
            f"{r.cost:.0f}",
        )
    return table
