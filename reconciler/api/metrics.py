"""Prometheus metrics, computed from the status at scrape time (no counters to keep in step)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from reconciler.api.source import Source

__all__ = ["StatusCollector"]


class StatusCollector(Collector):
    def __init__(self, source: Callable[[], Source]) -> None:
        self._source = source

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        source = self._source()
        status = source.status()
        leader = GaugeMetricFamily("spotfleet_daemon_leader", "1 if this daemon holds the lease")
        leader.add_metric([], 1.0 if source.leader else 0.0)
        yield leader
        mode = GaugeMetricFamily("spotfleet_daemon_mode", "the mode in force", labels=["mode"])
        for name in ("shadow", "pulumi"):
            mode.add_metric([name], 1.0 if status.get("mode") == name else 0.0)
        yield mode
        breaker = status.get("breaker") or {}
        opened = GaugeMetricFamily("spotfleet_daemon_breaker_open", "1 if actuation is stopped")
        opened.add_metric([], 1.0 if breaker.get("open") else 0.0)
        yield opened
        runs = CounterMetricFamily("spotfleet_daemon_job_runs", "job runs", labels=["job"])
        fails = CounterMetricFamily("spotfleet_daemon_job_failures", "failed runs", labels=["job"])
        last = GaugeMetricFamily(
            "spotfleet_daemon_job_last_finished_seconds", "epoch of the last run", labels=["job"]
        )
        for name, job in (status.get("jobs") or {}).items():
            runs.add_metric([name], float(job["runs"]))
            fails.add_metric([name], float(job["failures"]))
            if job.get("last_finished"):
                last.add_metric([name], datetime.fromisoformat(job["last_finished"]).timestamp())
        yield runs
        yield fails
        yield last
        desired = GaugeMetricFamily(
            "spotfleet_fleet_desired_nodes", "K: nodes demand asks to serve", labels=["fleet"]
        )
        instances = GaugeMetricFamily(
            "spotfleet_fleet_instances", "instances in the group", labels=["fleet"]
        )
        for name, fleet in (status.get("fleets") or {}).items():
            if fleet.get("desired_nodes") is not None:
                desired.add_metric([name], float(fleet["desired_nodes"]))
            if fleet.get("instances") is not None:
                instances.add_metric([name], float(fleet["instances"]))
        yield desired
        yield instances
