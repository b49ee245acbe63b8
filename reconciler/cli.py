"""The reconciler's command line: ``train``, ``backtest``, ``plan``, the daemon's ``run``, the
embedded default's ``demo`` and the operator's ``ctl``.

Every command is a thin shell: it parses flags into settings objects, calls one
function, and prints. Add a command with ``@app.command()`` in its own module and
import it here.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from reconciler.advisor import load_advisor_bands
from reconciler.ctl import ctl_app
from reconciler.daemon.command import register as register_daemon
from reconciler.decide import decide
from reconciler.embedded.command import register as register_demo
from reconciler.errors import ReconcilerError, WindowError
from reconciler.model import ModelSettings, load_model, train_model
from reconciler.planner import FleetDeclaration, PlannerSettings
from reconciler.replay.backtest import POLICY_NAMES, BacktestConfig, run_backtest
from reconciler.replay.plot import plot_results
from reconciler.replay.report import results_table, write_json
from reconciler.traces import day_to_tick, load_collection, load_prices

__all__ = ["app"]

app = typer.Typer(help="spotfleet reconciler: decide where the fleet runs.", no_args_is_help=True)
console = Console(stderr=True)
# Piped output (CI logs, `| tee`) is not a terminal: give the table room instead of 80 columns.
out = Console() if Console().is_terminal else Console(width=140)

DEFAULT_PRICES = Path("../shared/data/replay-prices.json")
_PLANNER = PlannerSettings()
_MODEL = ModelSettings()


def _fail(exc: ReconcilerError) -> typer.Exit:
    console.print(f"[red]error:[/red] {exc}")
    return typer.Exit(code=2)


@app.command()
def train(
    traces: Annotated[Path, typer.Option(help="a spot-traces collection folder")],
    prices: Annotated[Path, typer.Option(help="replay-prices.json")] = DEFAULT_PRICES,
    accelerator: Annotated[
        str | None, typer.Option(help="accelerator tag (default: the first pool's)")
    ] = None,
    advisor: Annotated[
        Path | None, typer.Option(help="spot-advisor-data.json (default: beside --prices)")
    ] = None,
    end_day: Annotated[
        float | None, typer.Option(help="fit on ticks before this day (default: all)")
    ] = None,
    horizon: Annotated[float, typer.Option(help="prediction horizon, seconds")] = _MODEL.horizon_s,
    trees: Annotated[int, typer.Option(help="boosting rounds")] = _MODEL.num_trees,
    out_dir: Annotated[
        Path, typer.Option("--out", help="artifact folder (model.txt + model.json)")
    ] = Path("var/model"),
) -> None:
    """Fit the interruption model on a time split and write its artifact."""
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            collection = load_collection(traces, accelerator)
        for w in caught:
            console.print(f"[yellow]warning:[/yellow] {w.message}")
        price = load_prices(prices, collection.tag)
        advisor_path = advisor or (prices.parent / "spot-advisor-data.json")
        bands = load_advisor_bands(advisor_path) if advisor_path.exists() else None
        market = collection.market(price, bands)
        end = (
            collection.n_ticks
            if end_day is None
            else day_to_tick(end_day, collection.gap_seconds, collection.n_ticks)
        )
        settings = ModelSettings(horizon_s=horizon, num_trees=trees)
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
        ) as progress:
            task = progress.add_task("boosting (held-out fit, then final fit)", total=2 * trees)
            model = train_model(
                market,
                end=end,
                settings=settings,
                on_iteration=lambda done, total: progress.update(task, completed=done, total=total),
            )
        model.save(out_dir)
    except ReconcilerError as exc:
        raise _fail(exc) from exc
    table = Table(
        title=f"held-out ({model.meta['rows']['holdout']} pool-ticks, horizon {horizon:.0f} s)"
    )
    for col in ("scorer", "AUC", "Brier", "ECE"):
        table.add_column(col)
    for name, m in model.meta["holdout"].items():
        table.add_row(name, f"{m['auc']:.4f}", f"{m['brier']:.4f}", f"{m['ece']:.4f}")
    out.print(table)
    out.print(f"model written to {out_dir}/model.txt and {out_dir}/model.json")


@app.command()
def backtest(
    traces: Annotated[Path, typer.Option(help="a spot-traces collection folder")],
    prices: Annotated[Path, typer.Option(help="replay-prices.json")] = DEFAULT_PRICES,
    k: Annotated[int, typer.Option("--k", help="target ready nodes K")] = 4,
    start_day: Annotated[
        float | None, typer.Option(help="first scored day (earlier ticks are history)")
    ] = None,
    end_day: Annotated[
        float | None, typer.Option(help="end of the window, days (default: trace end)")
    ] = None,
    accelerator: Annotated[
        str | None, typer.Option(help="accelerator tag (default: the first pool's)")
    ] = None,
    cold_start: Annotated[float, typer.Option(help="launch to ready, seconds")] = 300.0,
    advisor: Annotated[
        Path | None, typer.Option(help="spot-advisor-data.json (default: beside --prices)")
    ] = None,
    policy: Annotated[
        list[str] | None,
        typer.Option(help=f"policies to run (default: all of {', '.join(POLICY_NAMES)})"),
    ] = None,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="write REPLAY.md's JSON list here")
    ] = None,
    plot: Annotated[
        Path | None, typer.Option(help="draw ready capacity and cost over time (PNG)")
    ] = None,
    horizon: Annotated[
        float, typer.Option(help="the model's prediction horizon, seconds")
    ] = _MODEL.horizon_s,
    max_loss: Annotated[
        float, typer.Option(help="planner: no launch above this predicted loss")
    ] = _PLANNER.max_loss,
    spare_risk: Annotated[
        float, typer.Option(help="planner: one spare per this much expected loss")
    ] = _PLANNER.spare_risk,
    quiet: Annotated[bool, typer.Option(help="no progress bars")] = False,
) -> None:
    """Replay recorded spot capacity against every policy (REPLAY.md): cost and availability."""
    unknown = [p for p in policy or () if p not in POLICY_NAMES]
    if unknown:
        console.print(
            f"[red]error:[/red] unknown policy {unknown}; choose from {', '.join(POLICY_NAMES)}"
        )
        raise typer.Exit(code=2)
    config = BacktestConfig(
        traces=traces,
        prices=prices,
        k=k,
        start_day=start_day,
        end_day=end_day,
        accelerator=accelerator,
        cold_start_s=cold_start,
        advisor=advisor,
        policies=tuple(policy) if policy else POLICY_NAMES,
        planner=PlannerSettings(max_loss=max_loss, spare_risk=spare_risk),
        model=ModelSettings(horizon_s=horizon),
    )
    try:
        run = run_backtest(config, show_progress=not quiet)
    except ReconcilerError as exc:
        raise _fail(exc) from exc
    for w in run.warnings:
        console.print(f"[yellow]warning:[/yellow] {w}")
    c = run.collection
    title = (
        f"{c.folder.name} {c.tag} x{len(c.stems)} pools, ticks {run.start}..{run.end} "
        f"({c.gap_seconds} s), K={k}, cold start {cold_start:.0f} s"
    )
    out.print(results_table(run.results, title))
    if run.model is not None:
        held = run.model.meta["holdout"]
        out.print(
            "model held-out AUC " + ", ".join(f"{name} {m['auc']:.3f}" for name, m in held.items())
        )
    if json_out is not None:
        write_json(run.results, json_out)
        console.print(f"wrote {json_out}")
    if plot is not None:
        plot_results(run.results, k=k, gap_seconds=c.gap_seconds, path=plot)
        console.print(f"wrote {plot}")


@app.command("plan")
def plan_command(
    traces: Annotated[Path, typer.Option(help="a spot-traces collection folder")],
    day: Annotated[float, typer.Option(help="decide at the start of this day of the traces")],
    prices: Annotated[Path, typer.Option(help="replay-prices.json")] = DEFAULT_PRICES,
    k: Annotated[int, typer.Option("--k", help="target ready nodes K")] = 4,
    accelerator: Annotated[str | None, typer.Option(help="accelerator tag")] = None,
    model_dir: Annotated[
        Path | None,
        typer.Option("--model", help="a trained artifact (default: fit on the ticks before --day)"),
    ] = None,
    cold_start: Annotated[float, typer.Option(help="launch to ready, seconds")] = 300.0,
) -> None:
    """Show one decision for an empty fleet: every pool's prediction, verdict and the plan."""
    try:
        collection = load_collection(traces, accelerator)
        price = load_prices(prices, collection.tag)
        advisor_path = prices.parent / "spot-advisor-data.json"
        bands = load_advisor_bands(advisor_path) if advisor_path.exists() else None
        market = collection.market(price, bands)
        tick = day_to_tick(day, collection.gap_seconds, collection.n_ticks)
        if tick < 1:
            raise WindowError(f"--day {day} leaves no history to decide from; choose a later day")
        if model_dir is not None:
            model = load_model(model_dir)
        else:
            model = train_model(market, end=tick, settings=_MODEL)
        seen = market.prefix(tick)
        decided = decide(
            seen,
            fleet=FleetDeclaration(name=collection.folder.name, desired_nodes=k),
            nodes=(),
            now=seen.t0 + (tick - 1) * seen.gap_seconds,
            model=model,
            model_settings=model.settings,
            planner_settings=_PLANNER,
            cold_start_s=cold_start,
        )
    except ReconcilerError as exc:
        raise _fail(exc) from exc
    table = Table(title=f"predictions and verdicts at tick {tick - 1}")
    for col in ("pool", "P(loss)", "basis", "verdict"):
        table.add_column(col)
    for pred, verdict in zip(decided.predictions, decided.plan.verdicts, strict=True):
        table.add_row(pred.pool, f"{pred.probability:.3f}", pred.basis, verdict.reason)
    out.print(table)
    out.print(decided.plan.summary)
    for action in decided.plan.actions:
        out.print(f"  {type(action).__name__}: {action.reason}")
    out.print(f"placement: {decided.plan.placement}")


register_daemon(app)  # `run`: the daemon's process lives with the daemon
register_demo(app)  # `demo`: the embedded default
app.add_typer(ctl_app, name="ctl")  # `ctl ...`: an operator's actions on a running daemon
