"""The reconciler's command line: ``train``, ``models``, ``backtest``, ``plan``, the daemon's
``run``, the embedded default's ``demo`` and the operator's ``ctl``.

Every command is a thin shell: it parses flags into settings objects, calls one
function, and prints. Add a command with ``@app.command()`` in its own module and
import it here.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from reconciler.commands import models as _models
from reconciler.commands.backtest_window import backtest_window
from reconciler.commands.ctl import ctl_app
from reconciler.commands.models import comparison_table, holdout_table, register_models
from reconciler.commands.plan import decide_at
from reconciler.commands.stack_placement import stack_placements
from reconciler.commands.walk_forward import walk_forward as _walk
from reconciler.core.advisor import load_advisor_bands
from reconciler.core.errors import ReconcilerError, WindowError
from reconciler.core.traces import day_to_tick, load_collection, load_prices
from reconciler.daemon.command import register as register_daemon
from reconciler.decide.model import ModelSettings
from reconciler.decide.planner import PlannerSettings
from reconciler.embedded.command import register as register_demo
from reconciler.replay.backtest import POLICY_NAMES, BacktestConfig
from reconciler.replay.sweep import Sweep, parse_sweep
from stacks.spec import placement_to_config

__all__ = ["app"]

app = typer.Typer(help="spotfleet reconciler: decide where the fleet runs.", no_args_is_help=True)
console = Console(stderr=True)
# Piped output (CI logs, `| tee`) is not a terminal: give the table room instead of 80 columns.
out = Console() if Console().is_terminal else Console(width=140)

# Defaults that point into the shared data resolve from the project root (or
# $SPOTFLEET_DATA), never from the folder the command is run in.
PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("SPOTFLEET_DATA", PROJECT_ROOT.parent / "shared" / "data"))
DEFAULT_PRICES = SHARED_DATA / "replay-prices.json"
_PLANNER = PlannerSettings()
_MODEL = ModelSettings()


def _fail(exc: ReconcilerError) -> typer.Exit:
    # soft_wrap: a path in the message must stay whole to be copied, whatever the width.
    console.print(f"[red]error:[/red] {exc}", soft_wrap=True)
    return typer.Exit(code=2)


@app.command()
def train(
    traces: Annotated[
        Path | None, typer.Option(help="a spot-traces collection folder (the prior)")
    ] = None,
    history: Annotated[
        Path | None, typer.Option(help="a daemon's DuckDB history: fit as its retrain does")
    ] = None,
    prices: Annotated[Path, typer.Option(help="replay-prices.json")] = DEFAULT_PRICES,
    accelerator: Annotated[
        str | None, typer.Option(help="accelerator tag (default: the first pool's)")
    ] = None,
    advisor: Annotated[
        Path | None, typer.Option(help="spot-advisor-data.json (default: beside --prices)")
    ] = None,
    end_day: Annotated[
        float | None, typer.Option(help="--traces: fit on ticks before this day (default: all)")
    ] = None,
    horizon: Annotated[float, typer.Option(help="prediction horizon, seconds")] = _MODEL.horizon_s,
    trees: Annotated[int, typer.Option(help="boosting rounds")] = _MODEL.num_trees,
    pool: Annotated[
        list[str] | None,
        typer.Option(help="--history: a pool to fit on (repeat; default: every observed one)"),
    ] = None,
    until: Annotated[
        datetime | None,
        typer.Option(help="--history: fit as of this UTC time (default: its last observation)"),
    ] = None,
    lookback_days: Annotated[float, typer.Option(help="--history: days read")] = 30.0,
    evaluation_days: Annotated[
        float, typer.Option(help="--history: the last days, scored and not fitted")
    ] = 2.0,
    out_dir: Annotated[
        Path,
        typer.Option(
            "--out",
            help="--traces: the artifact folder; --history: the model registry (model_path)",
        ),
    ] = Path("var/model"),
) -> None:
    """Fit the interruption model and print its held-out metrics: from public traces (a plain
    artifact at --out), or from a daemon's history (a new candidate in the registry at --out,
    promoted there only if it beats the live model and the baseline on the last days)."""
    if (traces is None) == (history is None):
        console.print(
            "[red]error:[/red] give one of --traces DIR (public spot traces) or --history FILE "
            "(a daemon's DuckDB history)"
        )
        raise typer.Exit(code=2)
    if history is not None:
        _train_history(history, out_dir, pool, until, lookback_days, evaluation_days)
        return
    assert traces is not None
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
            model = _models.train_prior_on(
                market,
                end=end,
                settings=settings,
                on_iteration=lambda done, total: progress.update(task, completed=done, total=total),
            )
        model.save(out_dir)
    except ReconcilerError as exc:
        raise _fail(exc) from exc
    out.print(holdout_table(model, horizon))
    out.print(f"model written to {out_dir}/model.txt and {out_dir}/model.json")


def _train_history(
    history: Path,
    out_dir: Path,
    pools: list[str] | None,
    until: datetime | None,
    lookback_days: float,
    evaluation_days: float,
) -> None:
    if not history.is_file():
        console.print(f"[red]error:[/red] no history at {history}")
        raise typer.Exit(code=2)
    try:
        fit = _models.train_on_history(
            history,
            out_dir,
            pools=pools,
            until=until.replace(tzinfo=UTC) if until and until.tzinfo is None else until,
            lookback_s=lookback_days * 86400.0,
            evaluation_s=evaluation_days * 86400.0,
            grid_s=None,
            now=datetime.now(UTC),
        )
    except ReconcilerError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(code=2) from exc
    out.print(holdout_table(fit.model, fit.model.horizon_s))
    out.print(comparison_table(fit.comparison))
    out.print(fit.comparison.reason)
    verdict = "it decides" if fit.comparison.promoted else "the live model keeps deciding"
    out.print(f"model {fit.entry.model_id} written to {fit.entry.folder}: {verdict}")


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
    sweep: Annotated[
        str | None,
        typer.Option(
            help="NAME=V1,V2,...: one more planner run per value of a planner setting, "
            "e.g. spare_risk=0.5,1,1.5,2,3"
        ),
    ] = None,
    frontier_json: Annotated[
        Path | None,
        typer.Option(help='write {"policy": margin} over the peers\' frontier here'),
    ] = None,
    quiet: Annotated[bool, typer.Option(help="no progress bars")] = False,
    walk_forward: Annotated[
        float | None,
        typer.Option(help="DAYS: consecutive windows over the span, refitting before each"),
    ] = None,
    walk_forward_json: Annotated[
        Path | None, typer.Option(help="--walk-forward: write windows, pooled and interval")
    ] = None,
    auc_ceiling: Annotated[
        bool,
        typer.Option(
            help="--walk-forward: also score each window by the model fitted on every other "
            "day (the later ones too): the AUC these signals allow"
        ),
    ] = False,
) -> None:
    """Replay recorded spot capacity against every policy (REPLAY.md): cost and availability."""
    unknown = [p for p in policy or () if p not in POLICY_NAMES]
    if unknown:
        console.print(
            f"[red]error:[/red] unknown policy {unknown}; choose from {', '.join(POLICY_NAMES)}"
        )
        raise typer.Exit(code=2)
    try:
        swept: Sweep | None = parse_sweep(sweep) if sweep is not None else None
    except ReconcilerError as exc:
        raise _fail(exc) from exc
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
        sweep=swept,
    )
    if auc_ceiling and walk_forward is None:
        console.print(
            "[red]error:[/red] --auc-ceiling scores the windows of a walk-forward: "
            "add --walk-forward DAYS"
        )
        raise typer.Exit(code=2)
    if walk_forward is not None:
        try:
            others = [json_out, plot, sweep, frontier_json]
            _walk(
                config,
                walk_forward,
                walk_forward_json,
                others,
                quiet,
                (out, console),
                ceiling=auc_ceiling,
            )
        except ReconcilerError as exc:
            raise _fail(exc) from exc
        return
    try:
        backtest_window(
            config,
            json_out=json_out,
            frontier_json=frontier_json,
            plot=plot,
            quiet=quiet,
            consoles=(out, console),
        )
    except ReconcilerError as exc:
        raise _fail(exc) from exc


@app.command("plan")
def plan_command(
    traces: Annotated[Path, typer.Option(help="a spot-traces collection folder")],
    day: Annotated[float, typer.Option(help="decide at the start of this day of the traces")],
    prices: Annotated[Path, typer.Option(help="replay-prices.json")] = DEFAULT_PRICES,
    k: Annotated[int, typer.Option("--k", help="target ready nodes K")] = 4,
    accelerator: Annotated[str | None, typer.Option(help="accelerator tag")] = None,
    model_dir: Annotated[
        Path | None,
        typer.Option(
            "--model",
            help="a model path (train --out): its live blend decides, as in the daemon "
            "(default: a prior fitted on the ticks before --day)",
        ),
    ] = None,
    cold_start: Annotated[float, typer.Option(help="launch to ready, seconds")] = 300.0,
    fleet: Annotated[str, typer.Option(help="fleet name in the printed stack config")] = "fleet",
    subnet: Annotated[
        list[str] | None,
        typer.Option(help="ZONE=SUBNET_ID for the printed stack config (repeat per zone)"),
    ] = None,
) -> None:
    """Show one decision for an empty fleet, made as the daemon makes it (on the production
    signals: reconciler.commands.plan): every pool's prediction, verdict and the plan."""
    try:
        subnets = _subnets(subnet or ())
        collection = load_collection(traces, accelerator)
        price = load_prices(prices, collection.tag)
        advisor_path = prices.parent / "spot-advisor-data.json"
        bands = load_advisor_bands(advisor_path) if advisor_path.exists() else None
        market = collection.market(price, bands)
        tick = day_to_tick(day, collection.gap_seconds, collection.n_ticks)
        if tick < 1:
            raise WindowError(f"--day {day} leaves no history to decide from; choose a later day")
        made = decide_at(
            market,
            tick,
            k=k,
            fleet_name=collection.folder.name,
            model_dir=model_dir,
            cold_start_s=cold_start,
            model_settings=_MODEL,
            planner_settings=_PLANNER,
        )
    except ReconcilerError as exc:
        raise _fail(exc) from exc
    decided = made.decided
    out.print(f"decided as the daemon decides: {made.deciding}", soft_wrap=True)
    table = Table(title=f"predictions and verdicts at tick {tick - 1}")
    for col in ("pool", "P(loss)", "basis", "verdict"):
        table.add_column(col)
    for pred, verdict in zip(decided.predictions, decided.plan.verdicts, strict=True):
        table.add_row(pred.pool, f"{pred.probability:.3f}", pred.basis, verdict.reason)
    out.print(table)
    out.print(decided.plan.summary)
    for action in decided.plan.actions:
        out.print(f"  {type(action).__name__}: {action.reason}")
    placements = stack_placements(
        decided.plan,
        fleet=fleet,
        subnets=subnets,
        on_demand_region=market.pools[0].region if market.pools else None,
    )
    unfilled = any(p.subnet_id.startswith("<") for sp in placements.values() for p in sp.pools)
    out.print(
        "spotfleet:placements (stack config, one fleet per region"
        + ("; fill in the <subnet in ZONE>s or pass --subnet ZONE=SUBNET_ID" if unfilled else "")
        + "):",
        soft_wrap=True,
    )
    # Plain print: the JSON must reach the terminal byte for byte, without rich's markup.
    config = {name: placement_to_config(p) for name, p in placements.items()}
    print(json.dumps(config, indent=2))


def _subnets(pairs: Sequence[str]) -> dict[str, str]:
    subnets: dict[str, str] = {}
    for pair in pairs:
        zone, sep, subnet_id = pair.partition("=")
        if not sep or not zone or not subnet_id:
            raise typer.BadParameter(
                f"{pair!r}: expected ZONE=SUBNET_ID, e.g. us-east-1a=subnet-0abc",
                param_hint="--subnet",
            )
        subnets[zone] = subnet_id
    return subnets


register_models(app)  # `models`: the registry's artifacts
register_daemon(app)  # `run`: the daemon's process lives with the daemon
register_demo(app)  # `demo`: the embedded default
app.add_typer(ctl_app, name="ctl")  # `ctl ...`: an operator's actions on a running daemon
