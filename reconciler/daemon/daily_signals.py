"""The daemon's two daily signal jobs: the Spot Advisor's bands and the on-demand prices.

``reconciler.daemon.jobs`` adds them to the schedule's table.
Both are watched on /readyz like the other collectors (``health.WATCHED``): a refused advisor
file or an unreachable Pricing API fails its job, and after a few missed days the signal is
stale, while the bands and prices already held keep serving the decisions.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from gpu_node.logformat import log_context
from reconciler.collect.advisor_bands import collect_advisor_bands
from reconciler.collect.on_demand_prices import collect_on_demand_prices
from reconciler.core.aws import Clients
from reconciler.core.errors import AwsCallError
from reconciler.core.history.ledger import Ledger
from reconciler.core.settings import DaemonSettings
from reconciler.daemon.schedule import ScheduledJob

__all__ = ["daily_signal_jobs"]

log = logging.getLogger(__name__)


def daily_signal_jobs(
    settings: DaemonSettings,
    ledger: Ledger,
    clients: Clients,
    clock: Callable[[], datetime],
    sleep: Callable[[float], None],
) -> list[ScheduledJob]:
    """The ``advisor`` job (unless ``advisor_source`` is "") and the ``on_demand_prices`` job,
    both run at once and then on their cadences."""

    def advisor() -> None:
        refresh = collect_advisor_bands(ledger, settings.advisor_source, now=clock())
        log.info(
            "advisor bands: %d read from %s, %d new", refresh.bands, refresh.source, refresh.new
        )

    def on_demand_prices() -> None:
        failed: list[AwsCallError] = []
        for fleet in settings.fleets:
            with log_context(fleet=fleet.name):
                try:
                    collect_on_demand_prices(
                        ledger,
                        clients("pricing", settings.pricing_region),
                        fleet,
                        now=clock(),
                        use_api=settings.pricing_api,
                        sleep=sleep,
                    )
                except AwsCallError as exc:
                    failed.append(exc)
        if failed:
            raise failed[0]

    c = settings.cadences
    jobs = [ScheduledJob("on_demand_prices", on_demand_prices, c.on_demand_prices_s, 0.0)]
    if settings.advisor_source:
        jobs.append(ScheduledJob("advisor", advisor, c.advisor_s, 0.0))
    return jobs
