"""``backtest --walk-forward DAYS``: run the windows, print the table and the interval."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from rich.console import Console

from reconciler.core.errors import WalkForwardUsageError
from reconciler.replay.backtest import POLICY_NAMES, BacktestConfig
from reconciler.replay.walk_forward_report import (
    auc_line,
    interval_line,
    walk_forward_table,
    write_walk_forward_json,
)
from reconciler.replay.walk_forward_run import WALK_FORWARD_POLICIES, run_walk_forward

__all__ = ["WalkForwardUsageError", "walk_forward"]


def walk_forward(
    config: BacktestConfig,
    days: float,
    json_out: Path | None,
    single_window_outputs: Sequence[object | None],
    quiet: bool,
    consoles: tuple[Console, Console],
    *,
    ceiling: bool = False,
) -> None:
    """Print the walk-forward (``consoles``: the table's, then the messages'). Raises
    ``ReconcilerError`` for a span or window that selects no tick, or for an output of a
    single-window backtest (``--json``, ``--plot``, ``--sweep``, ``--frontier-json``) given."""
    out, console = consoles
    if any(o is not None for o in single_window_outputs):
        raise WalkForwardUsageError(
            "--walk-forward writes its own --walk-forward-json; drop --json, --plot, --sweep "
            "and --frontier-json (or run a single window without --walk-forward)"
        )
    if tuple(config.policies) == POLICY_NAMES:  # no --policy given
        config = replace(config, policies=WALK_FORWARD_POLICIES)
    run = run_walk_forward(config, days, show_progress=not quiet, ceiling=ceiling)
    for w in run.warnings:
        console.print(f"[yellow]warning:[/yellow] {w}")
    c = run.windows[0].run.collection
    title = (
        f"{c.folder.name} {c.tag} x{len(c.stems)} pools, walk-forward {days:g}-day windows "
        f"({len(run.windows)}), K={config.k}, the model refitted before each window"
    )
    out.print(walk_forward_table(run, title))
    if run.difference is not None:
        out.print(interval_line(run.difference), soft_wrap=True)
    aucs = auc_line(run)
    if aucs is not None:
        out.print(aucs, soft_wrap=True)
    if json_out is not None:
        write_walk_forward_json(run, json_out)
        console.print(f"wrote {json_out}")
