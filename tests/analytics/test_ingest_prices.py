from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics.errors import IngestError
from analytics.ingest.prices import (
    ingest_on_demand_prices,
    ingest_price_snapshot,
    ingest_spot_price_pages,
    normalise_product,
    read_price_pages,
)
from analytics.pools import region_of_zone
from analytics.queries import run_canned
from analytics.store import History, open_history
from tests.fixtures import FIXTURES

from .conftest import count


def record(zone="us-east-1a", itype="g5.xlarge", price="0.4123", ts="2026-11-01T10:00:00Z"):
    return {
        "AvailabilityZone": zone,
        "InstanceType": itype,
        "ProductDescription": "Linux/UNIX",
        "SpotPrice": price,
        "Timestamp": ts,
    }


def test_boto3_pages_land_as_prices_and_pools(history: History) -> None:
    pages = [
        # boto3 hands back aware datetimes; a saved page has ISO strings: both are UTC in the history.
        {
            "SpotPriceHistory": [
                record(ts=datetime(2026, 11, 1, 12, 0, tzinfo=timezone(timedelta(hours=2))))
            ]
        },
        {"SpotPriceHistory": [record(zone="us-east-1b", price="0.5", ts="2026-11-01T10:05:00Z")]},
    ]
    result = ingest_spot_price_pages(history, pages, source="aws:us-east-1")
    assert result.inserted == {"pools": 2, "spot_prices": 2}
    rows = history.con.execute("SELECT pool, ts, price FROM spot_prices ORDER BY pool").fetchall()
    assert rows == [
        ("us-east-1/us-east-1a/g5.xlarge", datetime(2026, 11, 1, 10, 0), 0.4123),
        ("us-east-1/us-east-1b/g5.xlarge", datetime(2026, 11, 1, 10, 5), 0.5),
    ]


def test_the_same_pages_twice_change_nothing(history: History) -> None:
    pages = [{"SpotPriceHistory": [record(), record(zone="us-east-1c")]}]
    ingest_spot_price_pages(history, pages, source="a")
    again = ingest_spot_price_pages(history, pages, source="b")
    assert again.rows_inserted == 0
    assert count(history, "spot_prices") == 2


@pytest.mark.parametrize(
    ("bad", "where", "problem"),
    [
        (record(price="abc"), "page 2, SpotPriceHistory[1]", "SpotPrice 'abc' is not a number"),
        (record(price="-1"), "page 2, SpotPriceHistory[1]", "finite price >= 0"),
        (record(price="nan"), "page 2, SpotPriceHistory[1]", "finite price >= 0"),
        (record(zone="1"), "page 2, SpotPriceHistory[1]", "not an availability zone"),
        (record(ts="yesterday"), "page 2, SpotPriceHistory[1]", "not an ISO 8601 time"),
        ({"InstanceType": "g5.xlarge"}, "page 2, SpotPriceHistory[1]", "lacks AvailabilityZone"),
    ],
)
def test_a_malformed_record_refuses_the_batch_naming_page_and_record(
    history: History, bad: dict, where: str, problem: str
) -> None:
    ingest_spot_price_pages(
        history, [{"SpotPriceHistory": [record(ts="2026-01-01T00:00:00Z")]}], source="earlier"
    )
    pages = [
        {"SpotPriceHistory": [record()]},
        {"SpotPriceHistory": [record(zone="us-east-1d"), bad]},
    ]
    with pytest.raises(IngestError) as caught:
        ingest_spot_price_pages(history, pages, source="batch.json")
    assert caught.value.where == where
    assert problem in caught.value.problem
    assert str(caught.value).startswith("batch.json, page 2")
    assert count(history, "spot_prices") == 1  # the earlier batch, untouched; nothing of this one


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["us-east-1a", "us-east-1b"]), st.integers(0, 5), st.integers(1, 99)
        ),
        min_size=1,
        max_size=30,
    )
)
def test_any_batch_ingested_twice_holds_each_key_once(rows: list[tuple[str, int, int]]) -> None:
    with open_history() as history:
        page = {
            "SpotPriceHistory": [
                record(
                    zone=z,
                    price=str(p / 100),
                    ts=(datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=m)).isoformat(),
                )
                for z, m, p in rows
            ]
        }
        ingest_spot_price_pages(history, [page], source="x")
        ingest_spot_price_pages(history, [page], source="x")
        keys = {(z, m) for z, m, _ in rows}
        assert count(history, "spot_prices") == len(keys)


def test_price_pages_are_read_from_every_saved_shape(tmp_path: Path) -> None:
    page = {"SpotPriceHistory": [record()]}
    one = tmp_path / "one.json"
    one.write_text(json.dumps(page))
    many = tmp_path / "many.json"
    many.write_text(json.dumps([page, page]))
    lines = tmp_path / "lines.jsonl"
    lines.write_text(json.dumps(page) + "\n\n" + json.dumps(page) + "\n")
    bare = tmp_path / "bare.json"
    bare.write_text(json.dumps([record()]))
    assert [len(list(read_price_pages(p))) for p in (one, many, lines, bare)] == [1, 2, 2, 1]
    broken = tmp_path / "broken.jsonl"
    broken.write_text(json.dumps(page) + "\n{oops\n")
    with pytest.raises(IngestError, match="line 2: is not JSON"):
        list(read_price_pages(broken))


def test_the_public_snapshot_is_ingested_once(history: History, public_data: Path) -> None:
    snapshot = public_data / "spot-prices-2022-05-31.tsv.zst"
    first = ingest_price_snapshot(history, snapshot)
    assert (
        first.rows_read == first.inserted["spot_prices"] == count(history, "spot_prices") > 30_000
    )
    assert ingest_price_snapshot(history, snapshot).rows_inserted == 0
    # Zone IDs name the region by code: use1-az1 is in us-east-1.
    regions = history.con.execute(
        "SELECT DISTINCT region FROM spot_prices WHERE zone LIKE 'use1-%'"
    ).fetchall()
    assert regions == [("us-east-1",)]


GOOD = "use1-az1\tg5.xlarge\tLinux/UNIX\t0.5\t2022-05-31T18:20:41+00:00\n"


@pytest.mark.parametrize(
    ("bad_line", "problem"),
    [
        ("use1-az1\tg5.xlarge\tLinux/UNIX\tabc\t2022-05-31T18:20:41+00:00\n", 'column "price"'),
        ("use1-az1\tg5.xlarge\tLinux/UNIX\n", "Expected Number of Columns: 5"),
        (
            "zzz9-az1\tg5.xlarge\tLinux/UNIX\t0.5\t2022-05-31T18:20:41+00:00\n",
            "not a known zone ID",
        ),
        (
            "use1-az1\tg5.xlarge\tLinux/UNIX\t-0.5\t2022-05-31T18:20:41+00:00\n",
            "finite number >= 0",
        ),
    ],
)
def test_a_bad_snapshot_line_is_named_and_nothing_is_written(
    history: History, tmp_path: Path, bad_line: str, problem: str
) -> None:
    path = tmp_path / "prices.tsv"
    path.write_text(GOOD + GOOD.replace("18:20", "18:21") + bad_line)
    with pytest.raises(IngestError) as caught:
        ingest_price_snapshot(history, path)
    assert caught.value.where == "line 3"
    assert problem in caught.value.problem
    assert count(history, "spot_prices") == 0
    assert count(history, "pools") == 0


def test_on_demand_prices_from_replay_prices_and_from_records(
    history: History, public_data: Path, tmp_path: Path
) -> None:
    result = ingest_on_demand_prices(history, public_data / "replay-prices.json")
    assert result.inserted["on_demand_prices"] == 5
    price = history.con.execute(
        "SELECT price FROM on_demand_prices WHERE instance_type = 'p3.2xlarge' AND region = 'us-east-1'"
    ).fetchall()
    assert price == [(3.06,)]
    assert ingest_on_demand_prices(history, public_data / "replay-prices.json").rows_inserted == 0
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps([{"region": "us-east-1", "instance_type": "g5.xlarge", "price": "x"}])
    )
    with pytest.raises(IngestError, match=r"\[0\]: price 'x' is not a number"):
        ingest_on_demand_prices(history, bad)


# --- zones, zone IDs and products as AWS writes them -------------------------------------


@pytest.mark.parametrize(
    ("zone", "region"),
    [
        ("us-east-1a", "us-east-1"),
        ("ap-northeast-1d", "ap-northeast-1"),
        ("us-gov-west-1a", "us-gov-west-1"),
        ("us-west-2-lax-1a", "us-west-2"),  # a Local Zone
        ("us-east-1-bos-1a", "us-east-1"),
        ("us-east-1-wl1-bos-wlz-1", "us-east-1"),  # a Wavelength zone
        ("ap-northeast-1-wl1-nrt-wlz-1", "ap-northeast-1"),
    ],
)
def test_the_region_of_every_kind_of_zone(zone: str, region: str) -> None:
    assert region_of_zone(zone) == region


@pytest.mark.parametrize("bad", ["", "us-east-1", "use1-az1", "lax-1a", "us-east-1-"])
def test_what_is_no_zone_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="is not an availability zone name"):
        region_of_zone(bad)


def test_the_cli_documented_output_is_normalised_and_answers_price_percentiles(
    history: History, tmp_path: Path
) -> None:
    pages = read_price_pages(FIXTURES / "prices" / "describe-spot-price-history-vpc.json")
    result = ingest_spot_price_pages(history, pages, source="cli-example")
    assert result.inserted["spot_prices"] == 2
    assert history.con.execute("SELECT DISTINCT product FROM spot_prices").fetchall() == [
        ("Linux/UNIX",)
    ]
    rows = run_canned(history.con, "price-percentiles").rows
    assert [(r[0], r[1], r[3]) for r in rows] == [
        ("us-west-1/us-west-1a/m1.xlarge", 1, 0.08),
        ("us-west-1/us-west-1c/m1.xlarge", 1, 0.08),
    ]


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("Linux/UNIX (Amazon VPC)", "Linux/UNIX"),
        ("SUSE Linux (Amazon VPC)", "SUSE Linux"),
        ("Windows (Amazon VPC)", "Windows"),
        ("Red Hat Enterprise Linux (Amazon VPC)", "Red Hat Enterprise Linux"),
        ("Linux/UNIX", "Linux/UNIX"),
    ],
)
def test_every_vpc_product_is_kept_as_its_plain_name(given: str, kept: str) -> None:
    assert normalise_product(given) == kept


def test_the_zone_id_is_kept_beside_the_zone_name(history: History) -> None:
    record = {
        "AvailabilityZone": "us-west-2-lax-1a",
        "AvailabilityZoneId": "usw2-lax1-az1",
        "InstanceType": "g5.xlarge",
        "ProductDescription": "Linux/UNIX",
        "SpotPrice": "0.5",
        "Timestamp": "2026-01-01T00:00:00Z",
    }
    ingest_spot_price_pages(history, [{"SpotPriceHistory": [record]}], source="t")
    assert history.con.execute("SELECT region, zone, zone_id FROM spot_prices").fetchall() == [
        ("us-west-2", "us-west-2-lax-1a", "usw2-lax1-az1")
    ]
    assert history.con.execute("SELECT pool, zone_id FROM pools").fetchall() == [
        ("us-west-2/us-west-2-lax-1a/g5.xlarge", "usw2-lax1-az1")
    ]
