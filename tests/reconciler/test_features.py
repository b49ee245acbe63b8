"""Features see only the past, and mean what their names say."""

from __future__ import annotations

import dataclasses

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.decide.features import FEATURES, compute_features
from tests.reconciler.helpers import market

F = {name: i for i, name in enumerate(FEATURES)}


@settings(max_examples=40, deadline=None)
@given(
    rows=st.integers(1, 3).flatmap(
        lambda n: st.lists(
            st.lists(st.integers(0, 2), min_size=60, max_size=60), min_size=n, max_size=n
        )
    ),
    t=st.integers(0, 58),
    noise=st.integers(0, 2**31 - 1),
    gap=st.sampled_from([600, 1800, 3600]),
)
def test_changing_data_after_t_never_changes_features_at_t(rows, t, noise, gap):
    before = market(rows, gap=gap)
    changed = np.array(rows, dtype=np.int32)
    rng = np.random.default_rng(noise)
    changed[:, t + 1 :] = rng.integers(0, 3, size=changed[:, t + 1 :].shape)
    after = market(changed.tolist(), gap=gap)
    after.spot_price[:, t + 1 :] = rng.uniform(0.1, 3.0, size=after.spot_price[:, t + 1 :].shape)
    a = compute_features(before, [t])
    b = compute_features(after, [t])
    np.testing.assert_array_equal(a, b)


@settings(max_examples=25, deadline=None)
@given(rows=st.lists(st.lists(st.integers(0, 1), min_size=80, max_size=80), min_size=2, max_size=2))
def test_features_at_many_ticks_equal_features_of_each_prefix(rows):
    # One call over all ticks (training) equals one call per tick on the history cut there
    # (replay and live): the single definition gives one answer.
    m = market(rows, gap=1800)
    everything = compute_features(m, np.arange(80))
    for t in (0, 1, 17, 47, 79):
        np.testing.assert_array_equal(everything[t], compute_features(m.prefix(t + 1), [t])[0])


def test_runs_windows_and_losses_on_a_hand_made_trace():
    # gap 1 h: up 3 ticks, down 2, up 1.
    m = market([[1, 1, 1, 0, 0, 1]], gap=3600)
    f = compute_features(m, np.arange(6))[:, 0, :]
    assert f[2, F["up_run_s"]] == 3 * 3600
    assert f[2, F["down_run_s"]] == 0
    assert f[4, F["down_run_s"]] == 2 * 3600
    assert f[4, F["up_run_s"]] == 0
    assert f[5, F["up_run_s"]] == 3600
    assert f[5, F["since_loss_s"]] == 2 * 3600  # the drop happened at tick 3
    assert f[5, F["avail_6h"]] == 4 / 6
    assert f[5, F["avail_1h"]] == 1.0
    assert f[5, F["transitions_24h"]] == 2
    assert f[5, F["avail_all"]] == 4 / 6


def test_region_peers_exclude_the_pool_itself_and_other_regions():
    m = market([[1, 1], [0, 0], [1, 0]], gap=3600, zones=["us-east-1a", "us-east-1b", "us-west-2a"])
    f = compute_features(m, [1])[0]
    assert f[0, F["region_now"]] == 0.0  # its one peer (1b) has none
    assert f[1, F["region_now"]] == 1.0
    assert np.isnan(f[2, F["region_now"]])  # alone in its region


def test_hour_of_week_starts_monday():
    monday = 1676851200.0  # 2023-02-20 00:00 UTC, a Monday
    m = market([[1, 1]], gap=3600, t0=monday)
    f = compute_features(m, [0, 1])
    assert f[0, 0, F["hour_of_week"]] == 0
    assert f[1, 0, F["hour_of_week"]] == 1


def test_a_warning_is_a_loss_to_the_features_where_capacity_never_drops():
    m = market([[4] * 6, [4] * 6], gap=3600)
    warned = np.zeros((2, 6), dtype=np.int32)
    warned[0, 2] = 1
    f = compute_features(dataclasses.replace(m, warnings=warned), np.arange(6))
    assert f[5, 0, F["since_loss_s"]] == 3 * 3600  # warned at tick 2
    assert f[5, 1, F["since_loss_s"]] == compute_features(m, [5])[0, 1, F["since_loss_s"]]
