"""The status page's history reads, against the page's hand-built history."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from reconciler.core.history.ledger import Ledger
from reconciler.core.history.status_reads import (
    capacity_series,
    job_counts,
    live_nodes_by_pool,
    node_count_series,
    recent_decisions,
)

from .conftest import T0
from .helpers import CHEAP, PAGE_JOBS, PAGE_REASON, XL2_A, XL2_B, ZONE_B, seed_page_history


@pytest.fixture
def page_history(ledger: Ledger) -> Ledger:
    seed_page_history(ledger, T0)
    return ledger


def ago(hours: float = 0, minutes: float = 0) -> datetime:
    return T0 - timedelta(hours=hours, minutes=minutes)


def test_capacity_is_the_value_at_the_windows_opening_then_each_change(
    page_history: Ledger,
) -> None:
    series = capacity_series(
        page_history, [CHEAP, ZONE_B, "us-east-1/none/g5.xlarge"], start=ago(24), end=T0
    )
    by_pool = {s.label: s.points for s in series}
    assert list(by_pool) == [CHEAP, ZONE_B]  # the caller's order; a pool never seen is left out
    assert by_pool[CHEAP] == ((ago(24), 6.0), (ago(19, 55), 3.0), (ago(15, 55), 6.0))
    assert by_pool[ZONE_B] == ((ago(24), 6.0), (ago(4, 55), 4.0))
    assert capacity_series(page_history, [ZONE_B], start=ago(2), end=T0)[0].points == (
        (ago(2), 4.0),
    )


def test_a_month_of_flapping_capacity_is_bucketed_and_keeps_its_dips(ledger: Ledger) -> None:
    pool = "us-east-1/us-east-1c/g5.xlarge"
    dip = ago(24 * 15)
    ledger.history.con.execute(
        "INSERT INTO capacity_observations SELECT ?, ts, "
        "CASE WHEN ts = ? THEN 0 WHEN minute(ts) % 10 = 0 THEN 6 ELSE 5 END, 300, 'test' "
        "FROM range(?::TIMESTAMP, ?::TIMESTAMP, INTERVAL 5 MINUTE) r(ts)",
        [
            pool,
            dip.replace(tzinfo=None),
            ago(24 * 31).replace(tzinfo=None),
            T0.replace(tzinfo=None),
        ],
    )
    (series,) = capacity_series(ledger, [pool], start=ago(24 * 30), end=T0, buckets=600)
    values = [v for _, v in series.points]
    assert len(series.points) <= 601  # not the 8,640 changes stored
    assert 0.0 in values and set(values) <= {0.0, 5.0, 6.0}
    assert min(series.points, key=lambda p: p[1])[0] <= dip  # the dip, where it was


def test_the_fleets_node_count_steps_at_each_launch_and_termination(page_history: Ledger) -> None:
    series = node_count_series(page_history, "gen", start=ago(24), end=T0)
    assert series.points == (
        (ago(24), 0.0),
        (ago(12), 1.0),
        (ago(8), 0.0),
        (ago(6), 1.0),
        (ago(3), 3.0),
        (ago(2), 4.0),
    )
    assert node_count_series(page_history, "gen", start=ago(2.5), end=T0).points == (
        (ago(2.5), 3.0),
        (ago(2), 4.0),
    )


def test_live_nodes_are_counted_per_pool_and_lifecycle(page_history: Ledger) -> None:
    assert live_nodes_by_pool(page_history, "gen") == {CHEAP: (2, 0), ZONE_B: (1, 0), XL2_A: (0, 1)}
    assert XL2_B not in live_nodes_by_pool(page_history, "gen")  # its node was terminated


def test_jobs_are_counted_by_state_in_the_pages_order(page_history: Ledger) -> None:
    con = page_history.history.con
    for job_id, fleet, state in [
        ("j-nofleet", None, "completed"),
        ("j-other", "other", "completed"),
        ("j-odd", "gen", "paused"),
    ]:
        con.execute(
            "INSERT INTO jobs (job_id, fleet, state, updated_at) VALUES (?, ?, ?, ?)",
            [job_id, fleet, state, T0.replace(tzinfo=None)],
        )
    assert job_counts(page_history, "gen") == (
        ("completed", PAGE_JOBS["completed"] + 1),
        ("started", 2),
        ("released", 1),
        ("failed", 1),
        ("dead_lettered", 1),
        ("paused", 1),
    )


def test_recent_decisions_come_newest_first_with_their_verdicts(page_history: Ledger) -> None:
    (decision,) = recent_decisions(page_history, "gen")
    assert decision.reason == PAGE_REASON and decision.applied and decision.changed
    assert decision.ts == ago(1)
    assert decision.reasons == (
        (CHEAP, "rank 1"),
        (XL2_B, "rejected: predicted loss 0.42 > 0.30"),
    )
    assert recent_decisions(page_history, "other") == ()
