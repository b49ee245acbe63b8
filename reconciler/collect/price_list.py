"""The Pricing API's ``PriceList`` items, read: one EC2 product's on-demand $/h.

Each item of ``GetProducts``' ``PriceList`` is a JSON *string* (botocore's model marks the
member ``jsonvalue``; boto3 hands it over undecoded): ``product.attributes`` (instanceType,
regionCode, location, operatingSystem, tenancy, preInstalledSw, capacitystatus, operation,
...) and ``terms.OnDemand.<sku.offerTermCode>.priceDimensions.<rateCode>`` with ``unit``
``Hrs`` and ``pricePerUnit.USD``; the term's ``effectiveDate`` says since when.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

__all__ = ["ProductPrice", "choose", "parse_price_item"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ProductPrice:
    """One product's hourly on-demand price, as the Price List states it."""

    instance_type: str
    region: str | None  # regionCode; older lists give only the location's name
    location: str | None
    operation: str | None  # RunInstances is plain Linux; RunInstances:xxxx another licence
    price: float  # USD per hour
    effective_at: datetime
    sku: str


def _mapping(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError(f"{where} is not an object")
    return value


def parse_price_item(item: str) -> ProductPrice | None:
    """The item's hourly on-demand price; None for a product that is not an instance or has
    no hourly on-demand term (a volume, a reserved-only host). Raises ValueError, naming the
    field, on an item that is not Price List JSON."""
    try:
        document = json.loads(item)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"a PriceList item is not JSON ({exc})") from exc
    product = _mapping(_mapping(document, "the item").get("product"), "product")
    attributes = _mapping(product.get("attributes"), "product.attributes")
    instance_type = attributes.get("instanceType")
    if not isinstance(instance_type, str) or "." not in instance_type:
        return None  # not an instance (storage, a dedicated host family)
    on_demand = _mapping(
        _mapping(document.get("terms") or {}, "terms").get("OnDemand") or {}, "terms.OnDemand"
    )
    for code, term in on_demand.items():
        term = _mapping(term, f"terms.OnDemand.{code}")
        dimensions = _mapping(term.get("priceDimensions"), f"terms.OnDemand.{code}.priceDimensions")
        for rate, dimension in dimensions.items():
            dimension = _mapping(dimension, f"priceDimensions.{rate}")
            if dimension.get("unit") != "Hrs":
                continue
            usd = _mapping(
                dimension.get("pricePerUnit"), f"priceDimensions.{rate}.pricePerUnit"
            ).get("USD")
            try:
                price = float(str(usd))
            except ValueError as exc:
                raise ValueError(
                    f"priceDimensions.{rate}.pricePerUnit.USD {usd!r} is not a number"
                ) from exc
            if not math.isfinite(price) or price < 0:
                raise ValueError(f"priceDimensions.{rate}.pricePerUnit.USD {usd!r} is not a price")
            return ProductPrice(
                instance_type=instance_type,
                region=_text(attributes.get("regionCode")),
                location=_text(attributes.get("location")),
                operation=_text(attributes.get("operation")),
                price=price,
                effective_at=_effective(term.get("effectiveDate"), code),
                sku=str(product.get("sku") or term.get("sku") or ""),
            )
    return None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _effective(value: Any, code: str) -> datetime:
    if not isinstance(value, str):
        raise ValueError(f"terms.OnDemand.{code}.effectiveDate is missing")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValueError(f"terms.OnDemand.{code}.effectiveDate {value!r} is not a time") from exc
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def choose(prices: Iterable[ProductPrice]) -> ProductPrice | None:
    """One price for a type: the plain ``RunInstances`` product where the filters left more
    than one (a licence variant), else the first; None when there is none."""
    found = list(prices)
    if len(found) > 1:
        log.info(
            "%d on-demand products for %s (skus %s); keeping the plain RunInstances one",
            len(found),
            found[0].instance_type,
            ", ".join(p.sku for p in found),
        )
    plain = [p for p in found if p.operation in (None, "RunInstances")]
    return (plain or found)[0] if found else None
