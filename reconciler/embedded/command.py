"""``python -m reconciler demo``: the embedded default, with progress, and its summary.

The first Ctrl-C ends the run cleanly (no drain wait) and still prints the summary.
"""

from __future__ import annotations

import json
import logging
import signal
import threading
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from analytics.errors import AnalyticsError
from gpu_node.logsafety import install_redaction
from reconciler.core.errors import ReconcilerError
from reconciler.embedded.demo import run_demo
from reconciler.embedded.settings import DemoSettings
from reconciler.embedded.summary import DemoSummary
from reconciler.embedded.world import LiveStatus

__all__ = ["register"]

_DEFAULTS = DemoSettings()
console = Console(stderr=True)


class _RichReporter:
    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._training: TaskID | None = None
        self._live: TaskID | None = None
        self._next_line = 0.0  # piped output (no live bar): a plain line now and then

    def stage(self, text: str) -> None:
        self._progress.console.print(f"[bold]·[/bold] {text}")

    def training(self, done: int, total: int) -> None:
        if self._training is None:
            self._training = self._progress.add_task("training (boosting rounds)", total=total)
        self._progress.update(self._training, completed=done)

    def live(self, status: LiveStatus) -> None:
        if self._live is None:
            self._live = self._progress.add_task("", total=status.duration_s)
        text = (
            f"{status.phase} · market {status.market_now:%Y-%m-%d %H:%M} · "
            f"nodes {status.ready}/{status.desired} ready · jobs {status.jobs_completed}/"
            f"{status.jobs_submitted} done · {status.preemptions} preempted · "
            f"${status.spot_cost_usd:.2f} (on-demand ${status.on_demand_cost_usd:.2f})"
        )
        self._progress.update(
            self._live, completed=min(status.elapsed_s, status.duration_s), description=text
        )
        if not self._progress.console.is_terminal and status.elapsed_s >= self._next_line:
            self._next_line = status.elapsed_s + 15.0
            self._progress.console.print(f"{status.elapsed_s:4.0f} s  {text}")


def _print_summary(summary: DemoSummary) -> None:
    table = Table(title="spotfleet embedded default: summary", show_header=False)
    rows = [
        ("duration", f"{summary.duration_s:.0f} s ({summary.market_hours:.1f} market hours)"),
        ("jobs submitted", summary.jobs_submitted),
        ("jobs completed", summary.jobs_completed),
        (
            "jobs dead-lettered",
            f"{summary.jobs_dead_lettered} ({summary.malformed_dead_lettered_with_reason} of "
            f"{summary.malformed_jobs} malformed, with their reason)",
        ),
        ("jobs still queued", summary.jobs_pending),
        ("jobs lost", summary.jobs_lost),
        ("preemptions", summary.preemptions),
        ("interruption events recorded", summary.interruption_events),
        ("decisions (applied)", f"{summary.decisions} ({summary.decisions_applied})"),
        ("mean ready fraction", f"{summary.mean_ready_fraction:.3f}"),
        ("launches with no node process loaded", summary.late_node_starts),
        (
            "cost against all on-demand",
            f"${summary.spot_cost_usd:.2f} / ${summary.on_demand_cost_usd:.2f} = "
            f"{summary.cost_ratio:.3f}",
        ),
        (
            "the backtest of this window",
            f"ready {summary.replayed_ready_fraction:.3f} "
            f"at cost {summary.replayed_cost_ratio:.3f}",
        ),
    ]
    for label, value in rows:
        table.add_row(label, str(value))
    console.print(table)
    if summary.stopped_early:
        console.print("[yellow]stopped early[/yellow]: the run was cut short")
    console.print(
        f"history: {summary.history}\nParquet export: {summary.export}\n"
        f"node logs: {summary.logs}\n"
        "ask it, e.g.:\n"
        f"  python -m analytics --db {summary.history} query savings\n"
        f"  python -m analytics --db {summary.history} report "
        f"{Path(summary.history).with_name('report.html')}\n"
        f"  python -m analytics --export {summary.export} query decisions-over-time"
    )


# The settings' fields whose flag is not the field's name.
_FLAG_OF = {
    "duration_s": "--duration",
    "ticks_per_s": "--speed",
    "jobs_per_minute": "--job-rate",
    "drain_s": "--drain",
    "cold_start_s": "--cold-start",
    "api_port": "--port",
}


def _flag_errors(exc: ValidationError) -> list[str]:
    """Each refused setting as the flag the user typed, its value and what it should be."""
    lines = []
    for error in exc.errors():
        field = str(error["loc"][0]) if error["loc"] else ""
        flag = _FLAG_OF.get(field, "--" + field.replace("_", "-"))
        message = str(error["msg"]).removeprefix("Input ")
        lines.append(f"{flag} {error['input']}: {message}")
    return lines


def register(app: typer.Typer) -> None:
    @app.command("demo")
    def demo_command(
        duration: Annotated[
            float, typer.Option(help="wall seconds of live market (setup and drain add ~1 min)")
        ] = _DEFAULTS.duration_s,
        speed: Annotated[
            float, typer.Option(help="trace ticks played per wall second (a tick is 195 s)")
        ] = _DEFAULTS.ticks_per_s,
        nodes: Annotated[
            int | None,
            typer.Option(help="fleet size: min nodes (max is twice); default: the stack file's"),
        ] = _DEFAULTS.nodes,
        job_rate: Annotated[
            float, typer.Option(help="jobs submitted per minute")
        ] = _DEFAULTS.jobs_per_minute,
        malformed_every: Annotated[
            int, typer.Option(help="every n-th job is malformed (0: none)")
        ] = _DEFAULTS.malformed_every,
        seed_days: Annotated[
            float, typer.Option(help="trace days written to the history before the start")
        ] = _DEFAULTS.seed_days,
        capacity_per_unit: Annotated[
            int, typer.Option(help="nodes one unit of traced capacity stands for")
        ] = _DEFAULTS.capacity_per_unit,
        drain: Annotated[
            float, typer.Option(help="at the end, wait up to this long for queued jobs")
        ] = _DEFAULTS.drain_s,
        cold_start: Annotated[
            float, typer.Option(help="market seconds from a launch to a serving node")
        ] = _DEFAULTS.cold_start_s,
        warm_nodes: Annotated[
            int | None,
            typer.Option(
                help="node processes started ahead, each taking the next launch "
                "(default: the fleet's most nodes, so that one burst of launches finds them)"
            ),
        ] = _DEFAULTS.warm_nodes,
        port: Annotated[
            int, typer.Option(help="the daemon's status API and page (0: any free port)")
        ] = _DEFAULTS.api_port,
        data: Annotated[Path, typer.Option(help="the public data folder")] = _DEFAULTS.data,
        out: Annotated[
            Path, typer.Option(help="where the run writes (emptied first)")
        ] = _DEFAULTS.out,
        stack_file: Annotated[
            Path, typer.Option(help="the stack file declaring the fleets")
        ] = _DEFAULTS.stack_file,
        fleet: Annotated[str, typer.Option(help="the declared fleet to run")] = _DEFAULTS.fleet,
        summary_json: Annotated[
            Path | None, typer.Option(help="also write the summary to this JSON file")
        ] = None,
    ) -> None:
        """Run the whole system on this machine: a replayed spot market, the daemon deciding
        in local mode, real node processes serving jobs. See docs/embedded.md."""
        logging.basicConfig(
            level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
        )
        install_redaction()  # no credential or API token in any log line, at any level
        # A job skipped because its last run is still going is normal at the demo's cadences.
        logging.getLogger("apscheduler").setLevel(logging.ERROR)
        try:
            settings = DemoSettings(
                data=data,
                out=out,
                stack_file=stack_file,
                fleet=fleet,
                duration_s=duration,
                ticks_per_s=speed,
                seed_days=seed_days,
                nodes=nodes,
                capacity_per_unit=capacity_per_unit,
                jobs_per_minute=job_rate,
                malformed_every=malformed_every,
                drain_s=drain,
                cold_start_s=cold_start,
                warm_nodes=warm_nodes,
                api_port=port,
            )
        except ValidationError as exc:
            for line in _flag_errors(exc):
                console.print(f"[red]error:[/red] {line}")
            raise typer.Exit(code=2) from exc
        except ValueError as exc:
            console.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(code=2) from exc
        stop = threading.Event()

        def on_interrupt(signum: int, frame: FrameType | None) -> None:
            if not stop.is_set():
                console.print("[yellow]stopping[/yellow] (the summary follows)…")
            stop.set()

        previous = signal.signal(signal.SIGINT, on_interrupt)
        try:
            with Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=console,
            ) as progress:
                summary = run_demo(settings, stop=stop, reporter=_RichReporter(progress))
        except (ReconcilerError, AnalyticsError, ValueError) as exc:
            console.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(code=2) from exc
        finally:
            signal.signal(signal.SIGINT, previous)
        if summary is None:
            console.print("stopped during setup: nothing ran, nothing to summarise")
            raise typer.Exit(code=130)
        _print_summary(summary)
        if summary_json is not None:
            summary_json.parent.mkdir(parents=True, exist_ok=True)
            summary_json.write_text(json.dumps(summary.as_json(), indent=2) + "\n")
            console.print(f"summary written to {summary_json}")
