"""The status page's renderer and chart: pure functions of a hand-built snapshot."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta

from reconciler.api.chart import Axis, ChartBox, layout_chart, step_chart
from reconciler.api.page import render_status_page
from reconciler.api.page_view import (
    DecisionRow,
    FleetCost,
    FleetPage,
    PoolRow,
    StatusPageView,
    StepSeries,
)
from reconciler.api.templating import render_chart

NOW = datetime(2023, 2, 21, 14, 5, tzinfo=UTC)  # a replayed market clock, years back
EVIL = "<script>alert(1)</script>"


def fleet(**overrides: object) -> FleetPage:
    fields: dict[str, object] = {
        "name": "gen",
        "group_desired": 3,
        "instances": 3,
        "wanted_nodes": 3,
        "wanted_reason": "backlog 12 jobs",
        "pools": (
            PoolRow("us-east-1/us-east-1a/g5.xlarge", 2, 0, 0.05, "model", 0.3, 1.006, "rank 1"),
            PoolRow("us-east-1/us-east-1b/g5.xlarge", 0, 1, None, None, None, None, None),
        ),
        "decisions": (
            DecisionRow(
                "d-1",
                NOW - timedelta(minutes=5),
                "pulumi",
                applied=True,
                changed=True,
                desired_nodes=3,
                reason="moved off 1b: predicted loss 0.42 > 0.30",
                reasons=(("us-east-1/us-east-1b/g5.xlarge", "rejected: loss 0.42 > 0.30"),),
            ),
        ),
        "placement_scores": (
            StepSeries(
                "us-east-1/us-east-1a/g5.xlarge",
                ((NOW - timedelta(hours=30), 9.0), (NOW - timedelta(hours=2), 2.0)),
            ),
        ),
        "node_count": StepSeries("fleet nodes", ((NOW - timedelta(hours=24), 3.0),)),
        "cost": FleetCost(
            spot_node_hours=22.0,
            on_demand_node_hours=2.0,
            cost_usd=7.774,
            all_on_demand_usd=19.526,
            unpriced_node_hours=5.0,
        ),
        "jobs": (("completed", 1234), ("started", 2), ("dead_lettered", 1)),
    }
    fields.update(overrides)
    return FleetPage(**fields)  # type: ignore[arg-type]


def view(**overrides: object) -> StatusPageView:
    fields: dict[str, object] = {
        "role": "leader",
        "now": NOW,
        "window_s": 24 * 3600.0,
        "mode": "pulumi",
        "started_at": NOW - timedelta(hours=1),
        "fleets": (fleet(),),
    }
    fields.update(overrides)
    return StatusPageView(**fields)  # type: ignore[arg-type]


def test_the_cost_figures_are_the_snapshots_to_the_cent() -> None:
    page = render_status_page(view())
    assert '<dd class="spent">$7.77</dd>' in page
    assert '<dd class="od">$19.53</dd>' in page
    assert "<strong>0.40&times;</strong> on-demand (60% saved)" in page
    assert "22.0 spot and 2.0 on-demand node-hours" in page
    assert "5.0 node-hours without a price are left out of both" in page


def test_no_priced_hours_say_so_instead_of_a_ratio() -> None:
    nothing = FleetCost(0.0, 0.0, 0.0, 0.0, 0.0)
    page = render_status_page(view(fleets=(fleet(cost=nothing),)))
    assert "no priced node-hours yet" in page and "&times;" not in page


def test_pools_decisions_and_jobs_are_shown_as_recorded() -> None:
    page = render_status_page(view())
    assert '<tr class="live" data-pool="us-east-1/us-east-1a/g5.xlarge">' in page
    assert '<td class="nowrap">2 spot</td>' in page
    assert '<td class="nowrap">1 on-demand</td>' in page
    assert '5.0% <span class="muted">model</span>' in page
    assert "$0.300" in page and "$1.006" in page
    assert "moved off 1b: predicted loss 0.42 &gt; 0.30" in page
    assert '<details id="decision-d-1"><summary>1 pool verdicts</summary>' in page
    assert '<span class="badge ok">applied</span>' in page
    assert "2023-02-21 14:00" in page  # the decision's time, on the replayed clock
    jobs = re.findall(r'data-state="(\w+)"><dt>([\w -]+)</dt><dd>([\d,]+)</dd>', page)
    assert jobs == [
        ("completed", "completed", "1,234"),
        ("started", "in progress", "2"),
        ("dead_lettered", "dead-lettered", "1"),
    ]
    assert "group desired <strong>3</strong>" in page and "(backlog 12 jobs)" in page


def test_a_big_fleets_idle_candidates_fold_away_and_the_chart_says_what_it_left_out() -> None:
    live = PoolRow("us-east-1/us-east-1a/g5.xlarge", 1, 0)
    idle = tuple(PoolRow(f"us-east-1/us-east-1b/g5.{i:02d}xlarge", 0, 0) for i in range(25))
    page = render_status_page(view(fleets=(fleet(pools=(live, *idle), uncharted_pools=16),)))
    shown, folded = page.split('<details id="pools-more-gen">')
    assert shown.count('<tr class="idle"') == 20 and shown.count('<tr class="live"') == 1
    assert folded.count('<tr class="idle"') == 5
    assert "<summary>5 more candidate pools without nodes</summary>" in folded
    assert "16 more pools are not drawn" in page


def test_a_decision_lists_its_first_30_verdicts_and_counts_the_rest() -> None:
    verdicts = tuple((f"pool-{i:03d}", f"rank {i + 1}") for i in range(45))
    decision = DecisionRow("d-big", NOW, "shadow", False, False, 3, "kept", verdicts)
    page = render_status_page(view(fleets=(fleet(decisions=(decision,)),)))
    assert "<summary>45 pool verdicts</summary>" in page
    assert "<code>pool-029</code> rank 30</li>" in page and "pool-030" not in page
    assert "and 15 more" in page


def test_the_run_panel_keeps_the_embeddings_order_and_formats_values() -> None:
    extras = (
        ("market clock", "2023-02-21 14:05"),
        ("jobs submitted", 12000),
        ("loss rate", 0.0125),
        ("replaying", True),
        ("last preemption", None),
    )
    page = render_status_page(view(extras=extras))
    labels = re.findall(r"<dt>([^<]+)</dt><dd>([^<]+)</dd>", page.split('id="run"')[1])[:5]
    assert labels == [
        ("market clock", "2023-02-21 14:05"),
        ("jobs submitted", "12,000"),
        ("loss rate", "0.0125"),
        ("replaying", "yes"),
        ("last preemption", "—"),
    ]
    assert page.index('id="run"') < page.index("Fleet by pool")


def test_a_failing_extras_callable_shows_its_error_in_the_panel() -> None:
    page = render_status_page(view(extras_error="RuntimeError: replay <stopped>"))
    assert ">Run</h2>" in page
    assert "RuntimeError: replay &lt;stopped&gt;" in page


def test_without_extras_there_is_no_run_panel() -> None:
    assert 'id="run"' not in render_status_page(view())


def test_every_string_from_data_is_escaped() -> None:
    pool = PoolRow(EVIL, 1, 0, 0.1, EVIL, 0.3, 1.0, EVIL)
    decision = DecisionRow(EVIL, NOW, EVIL, False, False, None, EVIL, ((EVIL, EVIL),))
    page = render_status_page(
        view(
            mode=EVIL,
            extras=((EVIL, EVIL),),
            failing_jobs=((EVIL, EVIL),),
            fleets=(
                fleet(
                    name=EVIL,
                    wanted_reason=EVIL,
                    pools=(pool,),
                    decisions=(decision,),
                    placement_scores=(StepSeries(EVIL, ((NOW, 1.0),)),),
                    jobs=((EVIL, 1),),
                ),
            ),
        )
    )
    assert "<script>alert" not in page
    assert page.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 15
    assert page.count("<script>") == 1  # the page's own, keeping <details> open


def test_the_page_stands_alone_and_reloads_itself() -> None:
    page = render_status_page(view())
    assert page.startswith("<!doctype html>")
    assert '<meta http-equiv="refresh" content="10">' in page
    assert not re.search(r'\b(src|href)="(?!data:)|@import|url\(|https?://', page)


def test_a_standby_page_says_standby_and_who_leads() -> None:
    page = render_status_page(
        StatusPageView(role="standby", now=None, window_s=3600.0, lease_holder="host-b pid 7")
    )
    assert ">Standby</h2>" in page and "<code>host-b pid 7</code>" in page
    assert "Fleet by pool" not in page


def test_a_step_line_holds_each_value_until_the_next_and_until_now() -> None:
    start, end = NOW - timedelta(hours=4), NOW
    series = StepSeries(
        "p",
        (
            (start - timedelta(hours=3), 5.0),  # superseded before the window opens
            (start - timedelta(hours=1), 2.0),  # in force when it opens
            (start + timedelta(hours=2), 4.0),
        ),
    )
    box = ChartBox(width=140, height=130, left=20, right=20, top=10, bottom=20)
    svg = step_chart([series], start=start, end=end, box=box)
    # y axis 0..5 over 100 px from y=10: 2 -> 70, 4 -> 30; x: 100 px over 4 h from x=20.
    assert 'd="M20.0,70.0H70.0V30.0H120.0"' in svg
    assert svg.count('class="series score"') == 1


def test_the_chart_draws_one_line_per_series_and_the_overlay_dashed() -> None:
    series = [StepSeries(f"pool-{i}", ((NOW - timedelta(hours=1), float(i)),)) for i in range(12)]
    overlay = StepSeries("fleet nodes", ((NOW - timedelta(hours=1), 3.0),))
    out = step_chart(series, start=NOW - timedelta(hours=2), end=NOW, overlay=overlay)
    assert out.count('class="series score"') == 12
    assert out.count('class="series nodes"') == 1
    assert out.count("<li>") == 13
    assert "Nodes" not in out  # labels come from the series only


def test_scores_keep_their_fixed_axis_and_the_nodes_take_their_own_on_the_right() -> None:
    start, end = NOW - timedelta(hours=4), NOW
    score = StepSeries("p", ((start - timedelta(hours=1), 5.0), (start + timedelta(hours=2), 10.0)))
    nodes = StepSeries("fleet nodes", ((start, 2.0), (start + timedelta(hours=1), 4.0)))
    box = ChartBox(width=140, height=130, left=20, right=20, top=10, bottom=20)
    chart = layout_chart(
        [score],
        start=start,
        end=end,
        overlay=nodes,
        box=box,
        axis=Axis("placement score (1-10)", top=10.0, step=5.0),
        overlay_axis=Axis("fleet nodes"),
    )
    assert chart is not None
    # Scores on 0..10 whatever they are: 5 -> y 60, 10 -> y 10 (100 px from y=10).
    assert chart.lines[0].d == "M20.0,60.0H70.0V10.0H120.0"
    assert [t.text for t in chart.y_ticks] == ["0", "5", "10"]
    # Nodes on their own axis, fitted with headroom (0..5): 2 -> y 70, 4 -> y 30.
    assert chart.lines[1].d == "M20.0,70.0H45.0V30.0H120.0"
    assert [t.text for t in chart.right_ticks] == ["0", "1", "2", "3", "4", "5"]
    svg = render_chart(chart)
    assert ">placement score (1-10)</text>" in svg and ">fleet nodes</text>" in svg
    assert "fleet nodes (right axis)</li>" in svg


def test_the_page_charts_each_pools_placement_score_under_an_honest_title() -> None:
    page = render_status_page(view())
    assert ">Placement score over time</h3>" in page and "Capacity" not in page
    assert 'aria-label="placement score per pool of fleet gen, and its live nodes"' in page
    paths = re.findall(r'<path class="series (\w+)" data-series="([^"]+)"', page)
    assert paths == [("score", "us-east-1/us-east-1a/g5.xlarge"), ("nodes", "fleet nodes")]
    assert ">placement score (1-10)</text>" in page


def test_an_empty_window_says_so() -> None:
    out = step_chart([StepSeries("p", ())], start=NOW - timedelta(hours=1), end=NOW)
    assert "No observations in this window." in out and "<svg" not in out


def test_a_few_hundred_rows_render_well_under_50_ms() -> None:
    pools = tuple(
        PoolRow(
            f"us-east-1/us-east-1{'abcdef'[i % 6]}/g5.{i}xlarge",
            i % 3,
            0,
            0.1,
            "model",
            0.4,
            1.0,
            f"rank {i}",
        )
        for i in range(300)
    )
    decisions = tuple(
        DecisionRow(
            f"d-{i}",
            NOW,
            "shadow",
            False,
            True,
            3,
            "reason " * 10,
            tuple((p.pool, "rank 1") for p in pools[:20]),
        )
        for i in range(10)
    )
    scores = tuple(
        StepSeries(p.pool, tuple((NOW - timedelta(minutes=5 * k), float(k % 7)) for k in range(50)))
        for p in pools[:20]
    )
    big = view(fleets=(fleet(pools=pools, decisions=decisions, placement_scores=scores),))
    timings = []
    for _ in range(5):
        started = time.perf_counter()
        render_status_page(big)
        timings.append(time.perf_counter() - started)
    assert sorted(timings)[2] < 0.050


def test_the_templates_escape_by_default_and_none_opts_out() -> None:
    from pathlib import Path

    import reconciler.api
    from reconciler.api.templating import environment

    env = environment()
    templates = sorted(env.list_templates())
    assert {"page.html", "_fleet.html", "_chart.html"} <= set(templates)
    folder = Path(reconciler.api.__file__).parent / "templates"
    for name in templates:
        escapes = env.autoescape
        assert escapes is True or (callable(escapes) and escapes(name)), name
        text = (folder / name).read_text()
        assert "|safe" not in text.replace(" ", "") and "autoescape false" not in text, name


def test_drift_is_shown_on_its_fleet_and_escaped() -> None:
    page = render_status_page(
        view(fleets=(fleet(drift=("sf-gen-g5.xlarge-subnet-1: holds 4 <b>, says 2",)),))
    )
    assert "<strong>drift</strong>: sf-gen-g5.xlarge-subnet-1: holds 4 &lt;b&gt;, says 2" in page
    assert "drift" not in render_status_page(view(fleets=(fleet(),)))
