"""The status page's Jinja2 environment: templates in ``reconciler/api/templates``,
autoescaping on for every template, so a string from data is escaped unless a template
says otherwise (none does). The filters format figures as a person reads them.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING

from jinja2 import Environment, PackageLoader, StrictUndefined

if TYPE_CHECKING:
    from reconciler.api.chart import ChartLayout

__all__ = ["environment", "render_chart"]


def _time(ts: datetime | None) -> str:
    return "—" if ts is None else ts.strftime("%Y-%m-%d %H:%M")


def _count(n: int | None) -> str:
    return "—" if n is None else f"{n:,}"


def _hours(x: float) -> str:
    return f"{x:,.1f}"


def _money(x: float) -> str:
    return f"${x:,.2f}"


def _value(v: object) -> str:
    """A value of the run panel, as a person reads it."""
    if v is None:
        return "—"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):
        return f"{v:,.6g}"
    if isinstance(v, datetime):
        return v.strftime("%Y-%m-%d %H:%M:%S")
    return str(v)


@cache
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("reconciler.api", "templates"),
        autoescape=True,  # every template, whatever its name
        undefined=StrictUndefined,  # a misspelt field fails the render, not silently blank
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.filters.update(time=_time, count=_count, hours=_hours, money=_money, value=_value)
    return env


def render_chart(chart: ChartLayout | None) -> str:
    """A chart on its own (the page draws its charts through the same macro)."""
    template = environment().get_template("_chart.html")
    return str(template.module.step_chart(chart))  # type: ignore[attr-defined]
