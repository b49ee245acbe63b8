"""The daemon's status page: one self-contained HTML document, rendered on the server from
the templates in ``reconciler/api/templates`` (``page.html`` and its parts).

Pure: a ``StatusPageView`` in, markup out, so it is tested without a daemon. Nothing is
fetched by the browser (inline CSS and SVG; no fonts, scripts or images from elsewhere): the
page works on a host with no internet. The page reloads itself every ``refresh_s``; a few
lines of script keep open ``<details>`` open across reloads, and the page reads the same
without them. Jinja2 escapes every string from data (autoescaping is on for every template).
"""

from __future__ import annotations

from reconciler.api.chart import Axis, ChartBox, ChartLayout, layout_chart
from reconciler.api.page_view import FleetPage, StatusPageView
from reconciler.api.templating import environment

__all__ = ["IDLE_POOLS_SHOWN", "VERDICTS_SHOWN", "render_status_page"]

IDLE_POOLS_SHOWN = 20  # candidate pools without nodes shown before the rest fold away
# Per-pool verdicts listed under a decision: a 500-pool fleet's ten decisions would otherwise
# weigh most of a megabyte, reloaded every few seconds.
VERDICTS_SHOWN = 30
# Scores run 1-10: a fixed axis, so a day at 10 reads as 10, with room above its line.
SCORE_AXIS = Axis("placement score (1-10)", top=11.0, step=2.0)
NODES_AXIS = Axis("fleet nodes")
CHART_BOX = ChartBox(left=52, right=52)  # room for both axes' ticks and titles


def render_status_page(view: StatusPageView) -> str:
    template = environment().get_template("page.html")
    return template.render(
        view=view,
        fleet_charts=[_chart(fleet, view) for fleet in view.fleets],
        IDLE_POOLS_SHOWN=IDLE_POOLS_SHOWN,
        VERDICTS_SHOWN=VERDICTS_SHOWN,
    )


def _chart(fleet: FleetPage, view: StatusPageView) -> ChartLayout | None:
    if view.now is None or view.window_start is None:
        return None
    return layout_chart(
        fleet.placement_scores,
        start=view.window_start,
        end=view.now,
        overlay=fleet.node_count,
        label=f"placement score per pool of fleet {fleet.name}, and its live nodes",
        box=CHART_BOX,
        axis=SCORE_AXIS,
        overlay_axis=NODES_AXIS,
    )
