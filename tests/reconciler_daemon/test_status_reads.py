"""The status page's history reads, against the page's hand-built history."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from reconciler.core.history.ledger import Ledger
from reconciler.core.history.status_reads import (
    job_counts,
    live_nodes_by_pool,
    node_count_series,
    placement_score_series,
    recent_decisions,
)
from reconciler.embedded.placement_scores import local_zone_id
from tests.history_rows import history_rows

from .conftest import T0
from .helpers import CHEAP, PAGE_JOBS, PAGE_REASON, XL2_A, XL2_B, ZONE_B, seed_page_history


@pytest.fixture
def page_history(ledger: Ledger) -> Ledger:
    seed_page_history(ledger, T0)
    return ledger


def ago(hours: float = 0, minutes: float = 0) -> datetime:
    return T0 - timedelta(hours=hours, minutes=minutes)


def test_a_pools_score_is_the_value_at_the_windows_opening_then_each_change(
    page_history: Ledger,
) -> None:
    # The page's history holds placement scores and no capacity observations (as AWS gives).
    assert history_rows(page_history, "SELECT count(*) FROM capacity_observations") == [(0,)]
    series = placement_score_series(
        page_history, [CHEAP, ZONE_B, "us-east-1/none/g5.xlarge"], start=ago(24), end=T0
    )
    by_pool = {s.label: s.points for s in series}
    assert list(by_pool) == [CHEAP, ZONE_B]  # the caller's order; a pool never scored is left out
    assert by_pool[CHEAP] == ((ago(24), 10.0), (ago(19, 55), 3.0), (ago(15, 55), 10.0))
    assert by_pool[ZONE_B] == ((ago(24), 10.0), (ago(4, 55), 4.0))
    assert placement_score_series(page_history, [ZONE_B], start=ago(2), end=T0)[0].points == (
        (ago(2), 4.0),
    )


def _score(ledger: Ledger, pool: str, target: int, score: int, at: datetime) -> None:
    region, zone, itype = pool.split("/")
    ledger.history.con.execute(
        "INSERT INTO placement_scores VALUES (?, ?, ?, ?, ?, ?, ?, 'test')",
        [region, zone, local_zone_id(zone), itype, target, score, at.replace(tzinfo=None)],
    )


def test_the_score_for_the_most_nodes_counts_and_an_unnamed_zone_is_left_out(
    ledger: Ledger,
) -> None:
    pool = "us-east-1/us-east-1c/g5.xlarge"
    _score(ledger, pool, 2, 9, ago(3))  # a smaller fleet's request in the same pool
    _score(ledger, pool, 6, 4, ago(3))
    _score(ledger, pool, 6, 7, ago(1))
    ledger.history.con.execute(
        "INSERT INTO placement_scores VALUES ('us-east-1', NULL, 'use1-az9', 'g5.xlarge', 6, 1, "
        "?, 'test')",
        [ago(2).replace(tzinfo=None)],
    )
    (series,) = placement_score_series(ledger, [pool], start=ago(4), end=T0)
    assert series.points == ((ago(3), 4.0), (ago(1), 7.0))


def test_a_month_of_flapping_scores_is_bucketed_and_keeps_its_dips(ledger: Ledger) -> None:
    region, zone, itype = "us-east-1", "us-east-1c", "g5.xlarge"
    pool = f"{region}/{zone}/{itype}"
    dip = ago(24 * 15)
    ledger.history.con.execute(
        "INSERT INTO placement_scores SELECT ?, ?, ?, ?, 3, "
        "CASE WHEN ts = ? THEN 1 WHEN minute(ts) % 10 = 0 THEN 9 ELSE 8 END, ts, 'test' "
        "FROM range(?::TIMESTAMP, ?::TIMESTAMP, INTERVAL 5 MINUTE) r(ts)",
        [
            region,
            zone,
            local_zone_id(zone),
            itype,
            dip.replace(tzinfo=None),
            ago(24 * 31).replace(tzinfo=None),
            T0.replace(tzinfo=None),
        ],
    )
    (series,) = placement_score_series(ledger, [pool], start=ago(24 * 30), end=T0, buckets=600)
    values = [v for _, v in series.points]
    assert len(series.points) <= 601  # not the 8,640 changes stored
    assert 1.0 in values and set(values) <= {1.0, 8.0, 9.0}
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
