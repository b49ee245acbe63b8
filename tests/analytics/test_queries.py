from __future__ import annotations

import pytest

from analytics.errors import AnalyticsError, UnknownQueryError
from analytics.queries import canned_queries, run_canned, run_sql
from analytics.store import History


def test_every_canned_query_has_a_description_and_runs_on_an_empty_history(
    history: History,
) -> None:
    queries = canned_queries()
    assert {
        "pool-availability",
        "interruption-rate",
        "price-percentiles",
        "capacity-by-hour-of-week",
        "decisions-over-time",
        "savings",
        "cost-per-image",
    } <= queries.keys()
    for name, query in queries.items():
        assert query.description, name
        assert run_canned(history.con, name).rows == []


def seed_fleet(history: History) -> None:
    history.con.execute("""
        INSERT INTO on_demand_prices VALUES ('us-east-1', 'g5.xlarge', 'Linux', TIMESTAMP '2020-01-01', 1.0, 't');
        INSERT INTO nodes (instance_id, fleet, pool, lifecycle, state, launched_at, terminated_at, hourly_price, observed_at) VALUES
          ('i-1', 'sd', 'us-east-1/us-east-1a/g5.xlarge', 'spot', 'terminated',
           TIMESTAMP '2026-01-01 00:00', TIMESTAMP '2026-01-01 02:00', 0.25, TIMESTAMP '2026-01-01 04:00'),
          ('i-2', 'sd', 'us-east-1/us-east-1b/g5.xlarge', 'on-demand', 'running',
           TIMESTAMP '2026-01-01 03:00', NULL, 1.0, TIMESTAMP '2026-01-01 04:00');
        INSERT INTO jobs (job_id, fleet, state, seconds, updated_at) VALUES
          ('a', 'sd', 'completed', 2.0, now()::TIMESTAMP), ('b', 'sd', 'completed', 4.0, now()::TIMESTAMP),
          ('c', 'sd', 'completed', 6.0, now()::TIMESTAMP), ('d', 'sd', 'dead_lettered', NULL, now()::TIMESTAMP);
    """)


def test_savings_weigh_node_hours_at_their_price_against_on_demand(history: History) -> None:
    seed_fleet(history)
    result = run_canned(history.con, "savings")
    row = dict(zip(result.columns, result.rows[0], strict=True))
    # i-1: 2 h spot at 0.25; i-2: 1 h (until the last observation) on demand at 1.0.
    assert row["spot_node_hours"] == pytest.approx(2.0)
    assert row["on_demand_node_hours"] == pytest.approx(1.0)
    assert row["cost"] == pytest.approx(1.5)
    assert row["on_demand_cost"] == pytest.approx(3.0)
    assert row["savings_fraction"] == pytest.approx(0.5)


def test_cost_per_image_is_node_cost_over_completed_jobs(history: History) -> None:
    seed_fleet(history)
    result = run_canned(history.con, "cost-per-image")
    row = dict(zip(result.columns, result.rows[0], strict=True))
    assert (row["images"], row["dead_lettered"]) == (3, 1)
    assert row["mean_seconds"] == pytest.approx(4.0)
    assert row["cost_per_image"] == pytest.approx(0.5)


def test_decisions_over_time_counts_changes_and_keeps_the_last_reason(history: History) -> None:
    history.con.execute("""
        INSERT INTO decisions (decision_id, ts, fleet, mode, changed, applied, reason) VALUES
          ('d1', TIMESTAMP '2026-01-01 10:05', 'sd', 'shadow', true, false, 'first'),
          ('d2', TIMESTAMP '2026-01-01 10:35', 'sd', 'shadow', false, false, 'second'),
          ('d3', TIMESTAMP '2026-01-01 11:00', 'sd', 'pulumi', true, true, 'third')
    """)
    rows = run_canned(history.con, "decisions-over-time").rows
    assert [(r[2], r[3], r[4], r[5]) for r in rows] == [(2, 1, 0, "second"), (1, 1, 1, "third")]


def test_unknown_queries_and_bad_sql_say_what_is_wrong(history: History) -> None:
    with pytest.raises(UnknownQueryError, match="known: capacity-by-hour-of-week"):
        run_canned(history.con, "nope")
    with pytest.raises(AnalyticsError, match="query failed"):
        run_sql(history.con, "SELECT * FROM no_such_table")
