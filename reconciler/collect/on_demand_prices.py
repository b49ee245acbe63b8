"""On-demand prices into the history: the AWS Pricing API where it answers, else the shipped list.

One ``GetProducts`` per fleet type and day (ServiceCode ``AmazonEC2``; TERM_MATCH filters on
instanceType, regionCode, operatingSystem Linux, tenancy Shared, preInstalledSw NA,
capacitystatus Used: the plain Linux instance one pays for), paged through ``NextToken``;
each ``PriceList`` item is read by ``reconciler.collect.price_list``. The Pricing API is
served from a few regions only (us-east-1 by default: the setting ``pricing_region``), for
every region's prices. A price is kept with the date AWS says it took effect and source
``pricing_api``; the readers take each type's newest (``arg_max(price, effective_at)``).

Where the API is unreachable or refused (EndpointConnectionError, AccessDeniedException,
ThrottlingException...), each try is noted in ``fleet_actions`` (kind ``signal_failed``) and
tried again after a growing pause, ``tries`` times in all (``reconciler.collect.retrying``;
any other error stops at once); then the shipped list is written
instead (the fleet's ``on_demand_prices``, else ``data/on-demand-g5.json``; source
``shipped``, in force since 2000, so any price the API gave stays the newer) and
``AwsCallError`` is raised, so the job fails and /readyz and /status say the signal is
stale. A type the API has no product for takes its shipped price, and the log says so.
With ``pricing_api = false`` only the shipped list is written, and the job succeeds.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from analytics.demo import SHIPPED_ON_DEMAND
from reconciler.collect.price_list import ProductPrice, choose, parse_price_item
from reconciler.collect.retrying import FailedTry, RetriedOperation, call_with_retries
from reconciler.core.errors import AwsCallError
from reconciler.core.history.ledger import Ledger
from reconciler.core.history.on_demand_writes import OnDemandPrice, record_on_demand_prices
from reconciler.core.settings import FleetTarget

__all__ = [
    "OPERATION",
    "RETRIED_CODES",
    "OnDemandRefresh",
    "collect_on_demand_prices",
    "product_filters",
    "shipped_prices",
]

log = logging.getLogger(__name__)

OPERATION = "pricing:GetProducts"
RETRIED_CODES = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "AccessDeniedException",
        "AccessDenied",
        "InternalErrorException",
    }
)
SHIPPED_SINCE = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class OnDemandRefresh:
    prices: tuple[OnDemandPrice, ...]  # what this run wrote, API and shipped alike
    new: int  # rows the history did not hold


def product_filters(instance_type: str, region: str) -> list[dict[str, str]]:
    """The filters naming the plain Linux on-demand instance of ``instance_type`` in ``region``."""
    terms = {
        "instanceType": instance_type,
        "regionCode": region,
        "operatingSystem": "Linux",
        "tenancy": "Shared",
        "preInstalledSw": "NA",
        "capacitystatus": "Used",
    }
    return [{"Type": "TERM_MATCH", "Field": f, "Value": v} for f, v in terms.items()]


def shipped_prices(fleet: FleetTarget) -> dict[str, float]:
    """$/h by type of the fleet: its own ``on_demand_prices``, else the shipped list's."""
    rows = json.loads(SHIPPED_ON_DEMAND.read_text())
    listed = {
        str(r["instance_type"]): float(r["price"])
        for r in rows
        if r["region"] == fleet.region and r.get("operating_system", "Linux") == "Linux"
    }
    known = {**listed, **fleet.on_demand_prices}
    return {t: known[t] for t in fleet.instance_types if t in known}


def _products(pricing: Any, instance_type: str, region: str) -> list[ProductPrice]:
    pages = pricing.get_paginator("get_products").paginate(
        ServiceCode="AmazonEC2",
        Filters=product_filters(instance_type, region),
        FormatVersion="aws_v1",
    )
    found: list[ProductPrice] = []
    for page in pages:
        for item in page.get("PriceList") or []:
            try:
                parsed = parse_price_item(item)
            except ValueError as exc:
                log.warning("dropping a PriceList item for %s: %s", instance_type, exc)
                continue
            if (
                parsed is not None
                and parsed.instance_type == instance_type
                and parsed.region in (None, region)
            ):
                found.append(parsed)
    return found


def _explain(failed: FailedTry) -> str:
    return (
        f"{failed.code} on try {failed.attempt} of {failed.tries}: the shipped on-demand prices "
        "are used until a later run reaches the Pricing API (AccessDenied: grant "
        "pricing:GetProducts; no Pricing API here: set pricing_api = false)"
    )


GET_PRODUCTS = RetriedOperation(
    OPERATION, RETRIED_CODES, "the shipped on-demand prices are used", _explain
)


def _shipped(fleet: FleetTarget, types: list[str]) -> list[OnDemandPrice]:
    listed = shipped_prices(fleet)
    missing = [t for t in types if t not in listed]
    if missing:
        log.warning(
            "no on-demand price for %s in %s, from the Pricing API or the shipped list: the "
            "cost against on-demand leaves them out (add them to the fleet's on_demand_prices)",
            ", ".join(missing),
            fleet.region,
        )
    return [
        OnDemandPrice(fleet.region, t, listed[t], SHIPPED_SINCE, "shipped")
        for t in types
        if t in listed
    ]


def collect_on_demand_prices(
    ledger: Ledger,
    pricing: Any,
    fleet: FleetTarget,
    *,
    now: datetime,
    use_api: bool = True,
    tries: int = 3,
    first_delay_s: float = 1.0,
    sleep: Callable[[float], None] = time.sleep,
) -> OnDemandRefresh:
    """The fleet's on-demand prices, from the Pricing API (``use_api``) or the shipped list."""
    if not use_api:
        shipped = _shipped(fleet, list(fleet.instance_types))
        return OnDemandRefresh(tuple(shipped), record_on_demand_prices(ledger, shipped))
    try:
        answered = call_with_retries(
            GET_PRODUCTS,
            lambda: {t: choose(_products(pricing, t, fleet.region)) for t in fleet.instance_types},
            ledger=ledger,
            fleet=fleet.name,
            now=now,
            tries=tries,
            first_delay_s=first_delay_s,
            sleep=sleep,
        )
    except AwsCallError:
        shipped = _shipped(fleet, list(fleet.instance_types))
        record_on_demand_prices(ledger, shipped)
        raise
    priced = [
        OnDemandPrice(fleet.region, t, p.price, p.effective_at, "pricing_api")
        for t, p in answered.items()
        if p is not None
    ]
    unpriced = [t for t, p in answered.items() if p is None]
    if unpriced:
        log.warning(
            "the Pricing API has no Linux on-demand product for %s in %s: using the shipped price",
            ", ".join(unpriced),
            fleet.region,
        )
    written = [*priced, *_shipped(fleet, unpriced)]
    return OnDemandRefresh(tuple(written), record_on_demand_prices(ledger, written))
