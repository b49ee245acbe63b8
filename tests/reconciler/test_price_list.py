"""The Pricing API's PriceList items, read on real answers: botocore's own GetProducts example
(an EBS volume: not an instance) and an ``aws pricing get-products`` answer for t2.micro (the
sources are in tests/fixtures/README.md)."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from reconciler.collect.price_list import ProductPrice, choose, parse_price_item

PRICING = Path(__file__).resolve().parents[1] / "fixtures" / "pricing"


def items(name: str) -> list[str]:
    return list(json.loads((PRICING / name).read_text())["PriceList"])


def test_the_t2_micro_answer_gives_its_hourly_on_demand_price_not_a_reserved_one() -> None:
    (item,) = items("get-products-t2-micro-eu-west-1.json")
    price = parse_price_item(item)
    assert price == ProductPrice(
        instance_type="t2.micro",
        region=None,  # that list predates regionCode: the location names the region
        location="EU (Ireland)",
        operation="RunInstances",
        price=0.0126,
        effective_at=datetime(2021, 1, 1, tzinfo=UTC),
        sku="STTHYT3WDDQU8UBR",
    )


def test_botocores_example_is_a_volume_and_names_no_instance_price() -> None:
    (item,) = items("get-products-ebs-botocore-example.json")
    assert parse_price_item(item) is None


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda d: d.pop("product"), "product is not an object"),
        (
            lambda d: next(iter(d["terms"]["OnDemand"].values()))["priceDimensions"].clear(),
            None,
        ),
        (
            lambda d: next(
                iter(next(iter(d["terms"]["OnDemand"].values()))["priceDimensions"].values())
            )["pricePerUnit"].update(USD="free"),
            "pricePerUnit.USD 'free' is not a number",
        ),
        (
            lambda d: next(iter(d["terms"]["OnDemand"].values())).pop("effectiveDate"),
            "effectiveDate is missing",
        ),
    ],
)
def test_a_damaged_item_names_the_field(change: object, problem: str | None) -> None:
    (item,) = items("get-products-t2-micro-eu-west-1.json")
    document = json.loads(item)
    change(document)  # type: ignore[operator]
    if problem is None:  # no hourly on-demand rate left: nothing to price
        assert parse_price_item(json.dumps(document)) is None
        return
    with pytest.raises(ValueError, match=problem):
        parse_price_item(json.dumps(document))
    with pytest.raises(ValueError, match="not JSON"):
        parse_price_item(item[:200])


def test_where_the_filters_leave_two_products_the_plain_run_instances_one_is_kept() -> None:
    (item,) = items("get-products-t2-micro-eu-west-1.json")
    plain = parse_price_item(item)
    assert plain is not None
    licensed = dataclasses.replace(plain, operation="RunInstances:0004", price=1.0)
    assert choose([licensed, plain]) == plain
    assert choose([licensed]) == licensed
    assert choose([]) is None
