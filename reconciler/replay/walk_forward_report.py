"""Walk-forward output: the per-window and pooled table, the interval line, and the JSON."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path

from rich.table import Table

from reconciler.replay.walk_forward import DifferenceInterval
from reconciler.replay.walk_forward_run import WalkForwardRun
from reconciler.replay.window_scores import WindowScores

__all__ = ["auc_line", "interval_line", "walk_forward_table", "write_walk_forward_json"]

_COMPARED = ("planner", "planner_no_model")


def _cell(value: float | None, fmt: str) -> str:
    return "" if value is None else format(value, fmt)


def walk_forward_table(run: WalkForwardRun, title: str) -> Table:
    """One row per window, then the pooled row: each compared policy's availability, cost
    ratio and margin over that window's peers' frontier, the difference, and the AUC of the
    model refitted before the window and of the 24 h baseline on the window's ticks."""
    table = Table(title=title)
    columns = ["window", "days", "ticks"]
    for name in ("planner", "no_model"):  # short enough for 140 columns
        columns += [f"{name} avail", "cost", "margin"]
    columns += ["difference", "AUC", "24h AUC"]
    for col in columns:
        table.add_column(col, justify="left" if col == "window" else "right", no_wrap=True)
    for w in run.windows:
        by_name = {r.policy: r for r in w.run.results}
        margins = w.run.margins
        row = [str(w.window.index + 1), f"{w.window.start_day:.4g}-{w.window.end_day:.4g}"]
        row.append(str(w.run.end - w.run.start))
        for name in _COMPARED:
            r = by_name.get(name)
            row += [
                _cell(r.availability if r else None, ".4f"),
                _cell(r.cost_ratio if r else None, ".4f"),
                _cell(margins.get(name), "+.4f"),
            ]
        diff = (
            by_name["planner"].availability - by_name["planner_no_model"].availability
            if all(name in by_name for name in _COMPARED)
            else None
        )
        row += [_cell(diff, "+.4f"), *_auc_cells(w.scores)]
        table.add_row(*row)
    pooled = {f.policy: f for f in run.pooled}
    first, last = run.windows[0].window, run.windows[-1].window
    row = ["pooled", f"{first.start_day:.4g}-{last.end_day:.4g}"]
    row.append(str(next(iter(pooled.values())).ticks))
    for name in _COMPARED:
        f = pooled.get(name)
        row += [
            _cell(f.availability if f else None, ".4f"),
            _cell(f.cost_ratio if f else None, ".4f"),
            _cell(run.margins.get(name), "+.4f"),
        ]
    row += [_cell(run.difference.difference if run.difference else None, "+.4f")]
    row += _auc_cells(run.scores)
    table.add_row(*row, end_section=True)
    return table


def _auc_cells(scores: WindowScores | None) -> list[str]:
    if scores is None:
        return ["", ""]
    return [_cell(scores.model_scores.auc, ".3f"), _cell(scores.baseline_scores.auc, ".3f")]


def auc_line(run: WalkForwardRun) -> str | None:
    """The pooled walk-forward AUC against the baseline's (None: the model never ran)."""
    scores = run.scores
    if scores is None:
        return None
    model, baseline = scores.model_scores, scores.baseline_scores
    fitted = [w.model_auc for w in run.windows if w.model_auc is not None]
    verdict = "above" if model.auc > baseline.auc else "not above"
    line = (
        f"model AUC on the windows it did not fit: {model.auc:.3f} pooled over {model.rows} "
        f"pool-ticks ({model.losses} losses), {verdict} the 24 h baseline's {baseline.auc:.3f}; "
        f"on its own last training ticks: mean {sum(fitted) / len(fitted):.3f}"
    )
    ceiling = run.ceiling
    if ceiling is not None:
        line += (
            f"; fitted on every other day instead (the later ones included): "
            f"{ceiling.model_scores.auc:.3f}, what these signals allow"
        )
    return line


def interval_line(d: DifferenceInterval) -> str:
    return (
        f"{d.a} - {d.b} pooled availability: {d.difference:+.4f}, "
        f"{d.level:.0%} bootstrap interval over {d.days} days [{d.low:+.4f}, {d.high:+.4f}] "
        f"({d.resamples} resamples, seed {d.seed}); "
        + ("above 0" if d.low > 0 else "below 0" if d.high < 0 else "includes 0")
    )


def _pooled_json(run: WalkForwardRun) -> list[dict[str, object]]:
    return [
        {
            "policy": f.policy,
            "ticks": f.ticks,
            "served": f.served,
            "cost": f.cost,
            "cost_ratio": f.cost_ratio,
            "availability": f.availability,
            **({"margin": run.margins[f.policy]} if f.policy in run.margins else {}),
        }
        for f in run.pooled
    ]


def _windows_json(run: WalkForwardRun) -> Sequence[dict[str, object]]:
    return [
        {
            "start_day": w.window.start_day,
            "end_day": w.window.end_day,
            "start_tick": w.run.start,
            "end_tick": w.run.end,
            "model_auc": w.model_auc,  # on the model's own last training ticks
            **_window_auc_json(w.scores, w.ceiling),
            "margins": w.run.margins,
            # REPLAY.md's list of objects for this window, as `--json` writes for one window.
            "results": [r.as_json() for r in w.run.results],
        }
        for w in run.windows
    ]


def _window_auc_json(
    scores: WindowScores | None, ceiling: WindowScores | None
) -> dict[str, float | None]:
    def finite(x: float) -> float | None:  # NaN (a window without a loss) is not JSON
        return None if math.isnan(x) else x

    def auc(s: WindowScores | None) -> float | None:
        return None if s is None else finite(s.model_scores.auc)

    return {
        "window_auc": auc(scores),
        "baseline_window_auc": None if scores is None else finite(scores.baseline_scores.auc),
        "left_out_auc": auc(ceiling),  # --auc-ceiling: fitted on every other day
    }


def write_walk_forward_json(run: WalkForwardRun, path: Path) -> None:
    """``{"windows": [...], "pooled": [...], "pooled_auc": {...}, "difference": {...} | null}``."""
    d = run.difference
    doc = {
        "windows": _windows_json(run),
        "pooled": _pooled_json(run),
        "pooled_auc": _window_auc_json(run.scores, run.ceiling),
        "difference": None
        if d is None
        else {
            "a": d.a,
            "b": d.b,
            "difference": d.difference,
            "low": d.low,
            "high": d.high,
            "level": d.level,
            "days": d.days,
            "resamples": d.resamples,
            "seed": d.seed,
        },
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=2) + "\n")
