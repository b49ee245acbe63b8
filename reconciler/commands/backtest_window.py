"""``backtest`` over one window: run it, print the table, write what was asked."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from reconciler.core.errors import BacktestUsageError
from reconciler.replay.backtest import BacktestConfig, run_backtest
from reconciler.replay.plot import plot_results
from reconciler.replay.report import results_table, write_frontier_json, write_json

__all__ = ["backtest_window"]


def backtest_window(
    config: BacktestConfig,
    *,
    json_out: Path | None,
    frontier_json: Path | None,
    plot: Path | None,
    quiet: bool,
    consoles: tuple[Console, Console],
) -> None:
    """Print the table (``consoles``: the table's, then the messages') and write the outputs.
    Raises ``ReconcilerError`` for bad input, ``BacktestUsageError`` for ``--frontier-json``
    without a peer in the run."""
    out, console = consoles
    run = run_backtest(config, show_progress=not quiet)
    for w in run.warnings:
        console.print(f"[yellow]warning:[/yellow] {w}")
    c = run.collection
    title = (
        f"{c.folder.name} {c.tag} x{len(c.stems)} pools, ticks {run.start}..{run.end} "
        f"({c.gap_seconds} s), K={config.k}, cold start {config.cold_start_s:.0f} s"
    )
    out.print(results_table(run.results, title, run.margins))
    if run.model is not None:
        held = run.model.meta["holdout"]
        out.print(
            "model held-out AUC " + ", ".join(f"{name} {m['auc']:.3f}" for name, m in held.items())
        )
    if json_out is not None:
        write_json(run.results, json_out)
        console.print(f"wrote {json_out}")
    if frontier_json is not None:
        if run.frontier is None:
            raise BacktestUsageError("--frontier-json needs at least one peer policy run")
        write_frontier_json(run.margins, frontier_json)
        console.print(f"wrote {frontier_json}")
    if plot is not None:
        plot_results(run.results, k=config.k, gap_seconds=c.gap_seconds, path=plot)
        console.print(f"wrote {plot}")
