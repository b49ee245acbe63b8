"""Prometheus metrics, computed from the status at scrape time (no counters to keep in step).

Readiness says the same as ``/readyz``: ``spotfleet_daemon_ready{reason}`` is one series,
1 with reason ``ready`` or 0 with the reason's code, and each watched signal has its age,
its limit and whether it is stale. The lease is re-checked at every scrape.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, get_args

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from reconciler.core.settings import Mode

if TYPE_CHECKING:
    from reconciler.api.source import Source
    from reconciler.core.readiness import SignalHealth

__all__ = ["StatusCollector"]

Family = GaugeMetricFamily | CounterMetricFamily


class StatusCollector(Collector):
    def __init__(self, source: Callable[[], Source]) -> None:
        self._source = source

    def collect(self) -> Iterator[Family]:
        source = self._source()
        status = source.status()
        readiness = source.ready()
        leader = GaugeMetricFamily("spotfleet_daemon_leader", "1 if this daemon holds the lease")
        leader.add_metric([], 1.0 if source.leader else 0.0)
        yield leader
        ready = GaugeMetricFamily(
            "spotfleet_daemon_ready", "1 if ready; the reason when not", labels=["reason"]
        )
        ready.add_metric([readiness.reason], 1.0 if readiness.ready else 0.0)
        yield ready
        yield from _signals(readiness.signals)
        mode = GaugeMetricFamily("spotfleet_daemon_mode", "the mode in force", labels=["mode"])
        for name in get_args(Mode):
            mode.add_metric([name], 1.0 if status.mode == name else 0.0)
        yield mode
        opened = GaugeMetricFamily("spotfleet_daemon_breaker_open", "1 if actuation is stopped")
        opened.add_metric([], 1.0 if status.breaker is not None and status.breaker.open else 0.0)
        yield opened
        runs = CounterMetricFamily("spotfleet_daemon_job_runs", "job runs", labels=["job"])
        fails = CounterMetricFamily("spotfleet_daemon_job_failures", "failed runs", labels=["job"])
        last = GaugeMetricFamily(
            "spotfleet_daemon_job_last_finished_seconds", "epoch of the last run", labels=["job"]
        )
        for name, job in status.jobs.items():
            runs.add_metric([name], float(job.runs))
            fails.add_metric([name], float(job.failures))
            if job.last_finished:
                last.add_metric([name], datetime.fromisoformat(job.last_finished).timestamp())
        yield runs
        yield fails
        yield last
        desired = GaugeMetricFamily(
            "spotfleet_fleet_desired_nodes", "K: nodes demand asks to serve", labels=["fleet"]
        )
        instances = GaugeMetricFamily(
            "spotfleet_fleet_instances", "instances in the group", labels=["fleet"]
        )
        paused = GaugeMetricFamily(
            "spotfleet_fleet_paused", "1 if an operator paused the fleet", labels=["fleet"]
        )
        cordoned = GaugeMetricFamily(
            "spotfleet_fleet_cordoned_pools", "pools an operator cordoned", labels=["fleet"]
        )
        for name, fleet in status.fleets.items():
            if fleet.desired_nodes is not None:
                desired.add_metric([name], float(fleet.desired_nodes))
            if fleet.instances is not None:
                instances.add_metric([name], float(fleet.instances))
            paused.add_metric([name], 1.0 if fleet.controls.paused is not None else 0.0)
            cordoned.add_metric([name], float(len(fleet.controls.cordons)))
        yield desired
        yield instances
        yield paused
        yield cordoned


def _signals(signals: tuple[SignalHealth, ...]) -> Iterator[Family]:
    age = GaugeMetricFamily(
        "spotfleet_daemon_signal_age_seconds",
        "wall seconds since the signal's job last succeeded",
        labels=["signal"],
    )
    limit = GaugeMetricFamily(
        "spotfleet_daemon_signal_stale_after_seconds",
        "the age past which the signal is stale",
        labels=["signal"],
    )
    stale = GaugeMetricFamily(
        "spotfleet_daemon_signal_stale", "1 if the signal is stale", labels=["signal"]
    )
    for s in signals:
        age.add_metric([s.name], s.age_s)
        limit.add_metric([s.name], s.stale_after_s)
        stale.add_metric([s.name], 1.0 if s.stale else 0.0)
    yield age
    yield limit
    yield stale
