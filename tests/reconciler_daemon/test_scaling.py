from __future__ import annotations

from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from reconciler.daemon.scaling import desired_nodes

from .conftest import T0


def scale(**kw: object) -> int:
    args: dict[str, object] = {
        "visible": 0,
        "in_flight": 0,
        "seconds_per_job": 30.0,
        "acceptable_latency_s": 300.0,
        "min_nodes": 0,
        "max_nodes": 10,
        "current": 2,
        "idle_since": None,
        "now": T0,
        "idle_to_zero_s": 1800.0,
    }
    args.update(kw)
    return desired_nodes(**args).desired  # type: ignore[arg-type]


def test_backlog_per_node_is_latency_over_seconds_per_job() -> None:
    # 300 s / 30 s = 10 jobs per node: 35 jobs need 4 nodes.
    assert scale(visible=30, in_flight=5) == 4
    # Slower jobs (60 s) halve what a node absorbs (5 each): 7 nodes.
    assert scale(visible=30, in_flight=5, seconds_per_job=60.0) == 7


def test_desired_stays_within_min_and_max() -> None:
    assert scale(visible=1000) == 10
    assert scale(visible=1, min_nodes=3) == 3


def test_no_backlog_keeps_the_fleet_until_idle_long_enough_then_zero() -> None:
    assert scale(idle_since=T0 - timedelta(seconds=600)) == 2
    assert scale(idle_since=T0 - timedelta(seconds=1800)) == 0
    assert scale(idle_since=T0 - timedelta(seconds=7200), min_nodes=1) == 1


@given(
    visible=st.integers(0, 10_000),
    in_flight=st.integers(0, 1000),
    spj=st.floats(0.1, 10_000),
    lo=st.integers(0, 5),
    span=st.integers(1, 50),
)
def test_desired_is_always_within_bounds(
    visible: int, in_flight: int, spj: float, lo: int, span: int
) -> None:
    got = scale(
        visible=visible,
        in_flight=in_flight,
        seconds_per_job=spj,
        min_nodes=lo,
        max_nodes=lo + span,
        current=lo,
    )
    assert lo <= got <= lo + span
    if visible + in_flight > 0:
        assert got >= min(1, lo + span)
