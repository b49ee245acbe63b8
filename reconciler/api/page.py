"""The daemon's status page: one self-contained HTML document, rendered on the server.

Pure: a ``StatusPageView`` in, markup out, so it is tested without a daemon. Nothing is
fetched by the browser (inline CSS and SVG; no fonts, scripts or images from elsewhere): the
page works on a host with no internet. The page reloads itself every ``refresh_s``; a few
lines of script keep open ``<details>`` open across reloads, and the page reads the same
without them. Every string that comes from data passes through ``html.escape``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from html import escape

from reconciler.api.chart import step_chart
from reconciler.api.page_model import model_card
from reconciler.api.page_view import DecisionRow, FleetCost, FleetPage, PoolRow, StatusPageView

__all__ = ["render_status_page"]

IDLE_POOLS_SHOWN = 20  # candidate pools without nodes shown before the rest fold away
# Per-pool verdicts listed under a decision: a 500-pool fleet's ten decisions would otherwise
# weigh most of a megabyte, reloaded every few seconds.
VERDICTS_SHOWN = 30

JOB_LABELS = {
    "completed": "completed",
    "started": "in progress",
    "released": "released",
    "failed": "failed",
    "dead_lettered": "dead-lettered",
}


def render_status_page(view: StatusPageView) -> str:
    if view.role == "standby":
        body = _standby(view)
    else:
        body = _header(view) + _run_panel(view) + _failing(view) + model_card(view.model)
        body += "".join(_fleet(f, view) for f in view.fleets) or (
            '<p class="empty">No fleets are configured.</p>'
        )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="refresh" content="{view.refresh_s}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        # An empty icon: without it the browser asks for /favicon.ico and logs the 404.
        '<link rel="icon" href="data:,">'
        f"<title>spotfleet daemon · {escape(view.role)}</title><style>{_CSS}</style></head>"
        f"<body><main>{body}{_footer(view)}</main><script>{_KEEP_DETAILS_OPEN}</script>"
        "</body></html>"
    )


# -- the parts, top to bottom ------------------------------------------------------------


def _standby(view: StatusPageView) -> str:
    holder = escape(view.lease_holder or "another daemon")
    return (
        '<header><h1>spotfleet daemon</h1><p class="meta"><span class="badge warn">standby'
        '</span></p></header><section class="card standby"><h2>Standby</h2>'
        f"<p>This daemon is waiting for the lease, held by <code>{holder}</code>. It takes "
        "over, and this page shows the fleets, once the lease is free.</p></section>"
    )


def _header(view: StatusPageView) -> str:
    breaker = (
        '<span class="badge bad">breaker open</span>'
        if view.breaker_open
        else '<span class="badge ok">breaker closed</span>'
    )
    facts = [
        '<span class="badge ok">leader</span>',
        f'<span class="badge">{escape(view.mode or "?")} mode</span>',
        breaker,
    ]
    times = f"clock <strong>{_time(view.now)}</strong> · up since {_time(view.started_at)}"
    return (
        f'<header><h1>spotfleet daemon</h1><p class="meta">{" ".join(facts)} {times}</p></header>'
    )


def _run_panel(view: StatusPageView) -> str:
    if view.extras_error is not None:
        inner = f'<p class="error">The run\'s figures failed: {escape(view.extras_error)}</p>'
    elif view.extras:
        inner = '<dl class="run">' + "".join(
            f"<div><dt>{escape(label)}</dt><dd>{escape(_value(value))}</dd></div>"
            for label, value in view.extras
        )
        inner += "</dl>"
    else:
        return ""
    return f'<section class="card run-panel" id="run"><h2>Run</h2>{inner}</section>'


def _failing(view: StatusPageView) -> str:
    if not view.failing_jobs:
        return ""
    items = "".join(
        f"<li><strong>{escape(job)}</strong>: {escape(error)}</li>"
        for job, error in view.failing_jobs
    )
    return f'<section class="card alert"><h2>Failing jobs</h2><ul>{items}</ul></section>'


def _fleet(fleet: FleetPage, view: StatusPageView) -> str:
    name = escape(fleet.name)
    wanted = _int(fleet.wanted_nodes)
    if fleet.wanted_reason:
        wanted += f' <span class="muted">({escape(fleet.wanted_reason)})</span>'
    summary = (
        f"group desired <strong>{_int(fleet.group_desired)}</strong> · instances "
        f"<strong>{_int(fleet.instances)}</strong> · demand asks for K = <strong>{wanted}</strong>"
    )
    if fleet.drift:
        summary += " · <strong>drift</strong>: " + "; ".join(escape(d) for d in fleet.drift)
    return (
        f'<section class="fleet" id="fleet-{name}"><h2>Fleet <code>{name}</code></h2>'
        f'<p class="meta">{summary}</p>'
        + _card("Fleet by pool", "pools", _pools(fleet))
        + _card("Recent decisions", "decisions", _decisions(fleet.decisions))
        + _card("Capacity over time", "capacity", _capacity(fleet, view))
        + '<div class="pair">'
        + _card("Cost so far against on-demand", "cost", _cost(fleet.cost))
        + _card("Jobs", "jobs", _jobs(fleet.jobs))
        + "</div></section>"
    )


def _card(title: str, kind: str, inner: str) -> str:
    return f'<section class="card {kind}"><h3>{escape(title)}</h3>{inner}</section>'


def _pools(fleet: FleetPage) -> str:
    """Pools with nodes, then the first idle candidates; a big fleet's other candidates fold
    away under a ``<details>`` (``/pools`` lists them all)."""
    if not fleet.pools:
        return '<p class="empty">No pools: no live nodes and no plan yet.</p>'
    live = [p for p in fleet.pools if p.nodes]
    idle = [p for p in fleet.pools if not p.nodes]
    shown, folded = live + idle[:IDLE_POOLS_SHOWN], idle[IDLE_POOLS_SHOWN:]
    out = _pool_table(shown)
    if folded:
        out += (
            f'<details id="pools-more-{escape(fleet.name)}"><summary>{len(folded)} more '
            f"candidate pools without nodes</summary>{_pool_table(folded)}</details>"
        )
    return out


def _pool_table(pools: Iterable[PoolRow]) -> str:
    rows = "".join(
        f'<tr class="{"live" if p.nodes else "idle"}" data-pool="{escape(p.pool)}">'
        f'<td class="pool"><code>{escape(p.pool)}</code></td>'
        f'<td class="num">{p.nodes}</td>'
        f'<td class="nowrap">{_lifecycle(p)}</td>'
        f'<td class="num">{_probability(p)}</td>'
        f'<td class="num">{_price(p.spot_price)}</td>'
        f'<td class="num">{_price(p.on_demand_price)}</td>'
        f"<td>{escape(p.verdict or '—')}</td></tr>"
        for p in pools
    )
    return (
        "<table><thead><tr><th>Pool</th><th>Nodes</th><th>Lifecycle</th>"
        "<th>Loss probability</th><th>Spot $/h</th><th>On-demand $/h</th>"
        f"<th>Last verdict</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def _lifecycle(p: PoolRow) -> str:
    parts = [f"{p.spot_nodes} spot"] if p.spot_nodes else []
    parts += [f"{p.on_demand_nodes} on-demand"] if p.on_demand_nodes else []
    return " + ".join(parts) or '<span class="muted">—</span>'


def _probability(p: PoolRow) -> str:
    if p.probability is None:
        return '<span class="muted">—</span>'
    pct = 100 * p.probability
    basis = f' <span class="muted">{escape(p.basis)}</span>' if p.basis else ""
    return f'<span class="bar" style="--p:{min(pct, 100):.0f}%"></span>{pct:.1f}%{basis}'


def _decisions(decisions: Iterable[DecisionRow]) -> str:
    rows = "".join(_decision(d) for d in decisions)
    if not rows:
        return '<p class="empty">No decisions yet.</p>'
    return (
        "<table><thead><tr><th>Time</th><th>Mode</th><th>Applied</th><th>Changed</th>"
        f"<th>Nodes</th><th>Reason</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def _decision(d: DecisionRow) -> str:
    applied = (
        '<span class="badge ok">applied</span>'
        if d.applied
        else '<span class="badge">not applied</span>'
    )
    changed = (
        '<span class="badge warn">changed</span>'
        if d.changed
        else '<span class="badge">unchanged</span>'
    )
    reasons = ""
    if d.reasons:
        items = "".join(
            f"<li><code>{escape(pool)}</code> {escape(verdict)}</li>"
            for pool, verdict in d.reasons[:VERDICTS_SHOWN]
        )
        if len(d.reasons) > VERDICTS_SHOWN:
            items += (
                f'<li class="muted">and {len(d.reasons) - VERDICTS_SHOWN} more '
                "(<code>GET /decisions</code>)</li>"
            )
        reasons = (
            f'<details id="decision-{escape(d.decision_id)}"><summary>{len(d.reasons)} pool '
            f"verdicts</summary><ul>{items}</ul></details>"
        )
    return (
        f'<tr><td class="nowrap">{_time(d.ts)}</td><td>{escape(d.mode)}</td><td>{applied}</td>'
        f'<td>{changed}</td><td class="num">{_int(d.desired_nodes)}</td>'
        f'<td><span class="reason">{escape(d.reason)}</span>{reasons}</td></tr>'
    )


def _capacity(fleet: FleetPage, view: StatusPageView) -> str:
    if view.now is None:
        return ""
    start = view.now - timedelta(seconds=view.window_s)
    chart = step_chart(
        fleet.capacity,
        start=start,
        end=view.now,
        overlay=fleet.node_count,
        label=f"capacity per pool of fleet {fleet.name}",
    )
    more = ""
    if fleet.uncharted_pools:
        more = (
            f'<p class="muted">{fleet.uncharted_pools} more pools are not drawn: the chart '
            "shows the first of the table.</p>"
        )
    return (
        f'<p class="muted">Nodes each pool could hold, and the fleet\'s live nodes, '
        f"from {_time(start)} to {_time(view.now)}.</p>{chart}{more}"
    )


def _cost(cost: FleetCost) -> str:
    ratio = cost.ratio
    if ratio is None:
        share = '<span class="muted">no priced node-hours yet</span>'
    else:
        share = f"<strong>{ratio:.2f}&times;</strong> on-demand ({100 * (1 - ratio):.0f}% saved)"
    unpriced = ""
    if cost.unpriced_node_hours > 0:
        unpriced = (
            f'<p class="muted">{cost.unpriced_node_hours:,.1f} node-hours without a price '
            "are left out of both.</p>"
        )
    return (
        '<dl class="figures">'
        f'<div><dt>so far</dt><dd class="spent">{_money(cost.cost_usd)}</dd></div>'
        f'<div><dt>if all on-demand</dt><dd class="od">{_money(cost.all_on_demand_usd)}</dd></div>'
        f'<div><dt>ratio</dt><dd class="ratio">{share}</dd></div></dl>'
        f'<p class="muted">{cost.spot_node_hours:,.1f} spot and '
        f"{cost.on_demand_node_hours:,.1f} on-demand node-hours.</p>{unpriced}"
    )


def _jobs(jobs: Iterable[tuple[str, int]]) -> str:
    items = "".join(
        f'<div data-state="{escape(state)}"><dt>{escape(JOB_LABELS.get(state, state))}</dt>'
        f"<dd>{n:,}</dd></div>"
        for state, n in jobs
    )
    return f'<dl class="figures jobs">{items}</dl>'


def _footer(view: StatusPageView) -> str:
    window = f" · chart window {view.window_s / 3600:g} h (<code>?hours=</code>)"
    return (
        f"<footer>Reloads every {view.refresh_s} s · times in UTC on the daemon's clock"
        f"{window if view.role == 'leader' else ''}</footer>"
    )


# -- formatting -----------------------------------------------------------------------------


def _time(ts: datetime | None) -> str:
    return "—" if ts is None else escape(ts.strftime("%Y-%m-%d %H:%M"))


def _int(n: int | None) -> str:
    return "—" if n is None else f"{n:,}"


def _price(p: float | None) -> str:
    return '<span class="muted">—</span>' if p is None else f"${p:.3f}"


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


_KEEP_DETAILS_OPEN = """
for (const d of document.querySelectorAll("details[id]")) {
  try { if (sessionStorage.getItem(d.id)) d.open = true; } catch (e) {}
  d.addEventListener("toggle", () => {
    try { d.open ? sessionStorage.setItem(d.id, "1") : sessionStorage.removeItem(d.id); }
    catch (e) {}
  });
}
"""

_CSS = """
:root { --ink:#1f2937; --muted:#6b7280; --line:#e5e7eb; --bg:#f6f7f9; --card:#fff;
  --ok:#047857; --ok-bg:#d1fae5; --warn:#92400e; --warn-bg:#fef3c7; --bad:#b91c1c;
  --bad-bg:#fee2e2; --accent:#4e79a7; }
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--ink);
  font:14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
main { max-width:1180px; margin:0 auto; padding:20px 24px 40px; }
h1 { font-size:22px; margin:0 0 4px; }
h2 { font-size:18px; margin:28px 0 6px; }
h3 { font-size:13px; margin:0 0 10px; text-transform:uppercase; letter-spacing:.04em;
  color:var(--muted); }
code { font:12.5px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
.meta { margin:0 0 12px; color:var(--muted); }
.meta strong { color:var(--ink); }
.card { background:var(--card); border:1px solid var(--line); border-radius:10px;
  padding:14px 16px; margin:12px 0; box-shadow:0 1px 2px rgba(0,0,0,.03); overflow-x:auto; }
.card h2 { margin-top:0; }
.pair { display:grid; grid-template-columns:1fr 1fr; gap:12px; }
.pair .card { margin:0; }
@media (max-width:820px) { .pair { grid-template-columns:1fr; } }
table { border-collapse:collapse; width:100%; }
th { text-align:left; font-weight:600; color:var(--muted); font-size:12px;
  border-bottom:1px solid var(--line); padding:6px 8px; white-space:nowrap; }
td { padding:6px 8px; border-bottom:1px solid var(--line); vertical-align:top; }
tbody tr:last-child td { border-bottom:0; }
tr.idle td { color:var(--muted); }
td.pool, td.nowrap { white-space:nowrap; }
h2 code { font-size:inherit; }
td.num { text-align:right; white-space:nowrap; font-variant-numeric:tabular-nums; }
.muted { color:var(--muted); }
.empty { color:var(--muted); font-style:italic; margin:0; }
.error { color:var(--bad); margin:0; }
.badge { display:inline-block; padding:1px 8px; border-radius:999px; font-size:12px;
  background:#eef0f3; color:var(--ink); white-space:nowrap; }
.badge.ok { background:var(--ok-bg); color:var(--ok); }
.badge.warn { background:var(--warn-bg); color:var(--warn); }
.badge.bad { background:var(--bad-bg); color:var(--bad); }
.bar { display:inline-block; width:40px; height:6px; margin-right:6px; border-radius:3px;
  vertical-align:middle; background:linear-gradient(90deg, var(--bad) var(--p),
  #eef0f3 var(--p)); }
details { margin-top:4px; }
summary { cursor:pointer; color:var(--accent); font-size:12.5px; }
details ul { margin:6px 0 0; padding-left:18px; font-size:12.5px; }
dl { margin:0; }
dl.run, dl.figures { display:flex; flex-wrap:wrap; gap:10px 28px; }
dl.run dt, dl.figures dt { color:var(--muted); font-size:12px; }
dl.run dd, dl.figures dd { margin:0; font-size:20px; font-weight:600;
  font-variant-numeric:tabular-nums; }
dd.ratio { font-size:16px !important; font-weight:400 !important; }
.run-panel { border-left:4px solid var(--accent); }
.alert { border-left:4px solid var(--bad); }
.chart-box { margin:0; }
svg.chart { width:100%; height:auto; display:block; }
svg .grid { stroke:var(--line); stroke-width:1; }
svg .tick { fill:var(--muted); font-size:11px; }
svg .series { fill:none; stroke-width:2; stroke-linejoin:round; }
svg .series.nodes { stroke-width:2.5; stroke-dasharray:6 4; }
ul.legend { list-style:none; display:flex; flex-wrap:wrap; gap:4px 16px; padding:0;
  margin:6px 0 0; font-size:12.5px; }
.swatch { display:inline-block; width:14px; height:3px; margin-right:6px;
  vertical-align:middle; }
.swatch.dashed { background:repeating-linear-gradient(90deg, #1f2937 0 5px,
  transparent 5px 8px); }
footer { margin-top:24px; color:var(--muted); font-size:12px; }
"""
