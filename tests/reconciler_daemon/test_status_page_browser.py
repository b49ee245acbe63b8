"""The status page as a person sees it: Debian's Chromium, headless, driven by Playwright,
over the daemon's API served by uvicorn from a real history.

Playwright never downloads a browser here: ``make unit`` installs Debian's ``chromium``
(as root, with apt). Without it this test fails, saying what to install; it never skips.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, expect

from reconciler.api.app import SourceHolder, create_app
from reconciler.api.source import DaemonSource
from reconciler.core.history.ledger import Ledger
from reconciler.daemon.daemon import Daemon
from tests.browser import chromium

from .conftest import Clock
from .helpers import (
    CHEAP,
    PAGE_JOBS,
    PAGE_REASON,
    XL2_A,
    XL2_B,
    ZONE_B,
    make_page_daemon,
    serve,
)

EXTRAS = {
    "market clock": "2023-02-21 14:05",
    "jobs submitted": 120,
    "jobs lost": 0,
    "preemptions": 3,
}
HEADINGS = (
    "Run",
    "Fleet by pool",
    "Recent decisions",
    "Placement score over time",
    "Cost so far against on-demand",
    "Jobs",
)


@pytest.fixture
def base_url(ledger: Ledger) -> Iterator[str]:
    daemon: Daemon = make_page_daemon(ledger, Clock())
    holder = SourceHolder(DaemonSource(daemon, extras=lambda: dict(EXTRAS)))
    try:
        yield from serve(create_app(holder, token=None))
    finally:
        daemon.stop()


@pytest.mark.slow
def test_a_person_sees_the_fleet_its_decisions_capacity_cost_and_jobs(
    base_url: str, tmp_path: Path
) -> None:
    with chromium() as browser:
        look_at_the_page(browser, base_url, tmp_path)


def look_at_the_page(browser: Browser, base_url: str, tmp_path: Path) -> None:
    problems: list[str] = []
    requested: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type in ("error", "warning"):
            problems.append(f"console {message.type}: {message.text}")

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("request", lambda request: requested.append(request.url))

    response = page.goto(f"{base_url}/", wait_until="load")
    assert response is not None and response.ok

    for heading in HEADINGS:
        expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()

    # The Run panel: the embedding's figures, in its order.
    run = page.locator("#run")
    assert run.locator("dt").all_inner_texts() == list(EXTRAS)
    assert run.locator("dd").all_inner_texts() == ["2023-02-21 14:05", "120", "0", "3"]

    # A row per pool with live nodes, with its lifecycle; the idle candidate after them.
    live = page.locator("section.pools tbody tr.live")
    assert live.evaluate_all("rows => rows.map(r => r.dataset.pool)") == sorted(
        [CHEAP, ZONE_B, XL2_A]
    )
    expect(page.locator(f'tr[data-pool="{CHEAP}"]')).to_contain_text("2 spot")
    expect(page.locator(f'tr[data-pool="{XL2_A}"]')).to_contain_text("1 on-demand")
    expect(page.locator(f'tr[data-pool="{XL2_B}"]')).to_have_class("idle")

    # A decision's reason, and its per-pool verdicts behind a click.
    expect(page.get_by_text(PAGE_REASON)).to_be_visible()
    verdict = page.get_by_text("rejected: predicted loss 0.42 > 0.30")
    expect(verdict).to_be_hidden()
    page.locator("#decision-d-earlier summary").click()
    expect(verdict).to_be_visible()

    # The chart: one drawn line per pool across the window, the fleet's nodes dashed.
    chart = page.locator("section.scores svg.chart")
    expect(chart).to_be_visible()
    lines = chart.locator("path.series.score")
    expect(lines).to_have_count(4)
    chart_box = chart.bounding_box()
    assert chart_box is not None
    for i in range(4):
        box = lines.nth(i).bounding_box()
        assert box is not None and box["width"] > 0.85 * chart_box["width"]  # the plot's width
    expect(chart.locator("path.series.nodes")).to_have_count(1)
    legend = page.locator("section.scores ul.legend li").all_inner_texts()
    # The pool table's order, then the nodes on their own axis.
    assert legend == [XL2_A, CHEAP, ZONE_B, XL2_B, "fleet nodes (right axis)"]

    # What it cost against on-demand (see helpers.PAGE_COST_USD), and the jobs.
    expect(page.locator("section.cost dd.spent")).to_have_text("$8.22")
    expect(page.locator("section.cost dd.od")).to_have_text("$19.34")
    expect(page.locator("section.cost dd.ratio")).to_contain_text(
        "0.43\u00d7 on-demand (57% saved)"
    )
    for state, count in PAGE_JOBS.items():
        expect(page.locator(f'section.jobs [data-state="{state}"] dd')).to_have_text(str(count))

    # Everything came from the daemon: no other host was asked for anything.
    assert requested and all(url.startswith(base_url) for url in requested), requested

    screenshot = tmp_path / "status-page.png"
    page.screenshot(path=str(screenshot), full_page=True)
    png = screenshot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert width == 1280 and height > 900  # the whole page, longer than the viewport
    assert len(png) > 50_000  # text, tables and a chart, not a blank page

    page.close()
    assert problems == []
