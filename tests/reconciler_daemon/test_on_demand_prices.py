"""On-demand prices from the Pricing API, over real HTTP to the local emulation (moto has no
``pricing``), and the shipped list where the API is refused, throttled or unreachable."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.config import Config

from reconciler.collect.on_demand_prices import OPERATION, collect_on_demand_prices
from reconciler.core.aws import Clients
from reconciler.core.errors import AwsCallError
from reconciler.core.history.ledger import Ledger
from reconciler.core.settings import DaemonSettings, SettingsError, load_settings
from reconciler.daemon.daily_signals import daily_signal_jobs
from reconciler.daemon.health import WATCHED, Health
from reconciler.embedded.local_aws import free_port
from reconciler.embedded.pricing_api import LocalPricing, local_pricing_api
from tests.history_rows import history_rows

from .conftest import T0
from .helpers import FLEET

ONE_TRY = Config(retries={"mode": "standard", "max_attempts": 1}, connect_timeout=1)


@pytest.fixture
def pricing() -> Iterator[LocalPricing]:
    with local_pricing_api() as served:
        yield served


def held(ledger: Ledger) -> list[tuple[Any, ...]]:
    return history_rows(
        ledger,
        "SELECT instance_type, price, source, effective_at::VARCHAR FROM on_demand_prices "
        "ORDER BY instance_type, effective_at",
    )


def newest(ledger: Ledger) -> dict[str, float]:
    rows = history_rows(
        ledger,
        "SELECT instance_type, arg_max(price, effective_at) FROM on_demand_prices GROUP BY 1",
    )
    return {str(t): float(p) for t, p in rows}


def noted(ledger: Ledger) -> list[str]:
    rows = history_rows(
        ledger,
        "SELECT detail FROM fleet_actions WHERE kind = 'signal_failed' AND target = ? "
        "ORDER BY ts, detail",
        [OPERATION],
    )
    return [str(r[0]) for r in rows]


def test_the_api_prices_each_type_once_and_a_second_run_adds_nothing(
    ledger: Ledger, pricing: LocalPricing
) -> None:
    client = pricing.client(config=ONE_TRY)
    first = collect_on_demand_prices(ledger, client, FLEET, now=T0)
    assert first.new == 2
    assert collect_on_demand_prices(ledger, client, FLEET, now=T0).new == 0
    assert held(ledger) == [
        ("g5.2xlarge", 1.212, "pricing_api", "2025-01-01 00:00:00"),
        ("g5.xlarge", 1.006, "pricing_api", "2025-01-01 00:00:00"),
    ]
    assert noted(ledger) == []


def test_refused_the_shipped_list_is_written_noted_and_the_job_fails(
    ledger: Ledger, pricing: LocalPricing
) -> None:
    pricing.refuse("AccessDeniedException")
    pauses: list[float] = []
    with pytest.raises(AwsCallError, match="AccessDeniedException on try 3 of 3.*shipped"):
        collect_on_demand_prices(
            ledger, pricing.client(config=ONE_TRY), FLEET, now=T0, sleep=pauses.append
        )
    assert pauses == [1.0, 2.0] and pricing.calls == 3
    assert [r[2] for r in held(ledger)] == ["shipped", "shipped"]
    assert newest(ledger) == {"g5.xlarge": 1.006, "g5.2xlarge": 1.212}
    notes = noted(ledger)
    assert len(notes) == 3 and "try 3 of 3; the shipped on-demand prices are used" in notes[-1]


def test_a_throttled_call_is_tried_again_after_a_pause_and_the_api_price_is_kept(
    ledger: Ledger, pricing: LocalPricing
) -> None:
    pricing.refuse("ThrottlingException")
    pauses: list[float] = []

    def pause(seconds: float) -> None:
        pauses.append(seconds)
        pricing.refuse(None)  # AWS lets the next one through

    collect_on_demand_prices(ledger, pricing.client(config=ONE_TRY), FLEET, now=T0, sleep=pause)
    assert pauses == [1.0]
    assert {r[2] for r in held(ledger)} == {"pricing_api"}
    assert len(noted(ledger)) == 1 and "ThrottlingException" in noted(ledger)[0]


def test_an_unreachable_endpoint_falls_back_and_a_later_api_price_is_the_newer(
    ledger: Ledger, pricing: LocalPricing
) -> None:
    nowhere = LocalPricing(f"http://127.0.0.1:{free_port()}", []).client(config=ONE_TRY)
    with pytest.raises(AwsCallError, match="EndpointConnectionError"):
        collect_on_demand_prices(ledger, nowhere, FLEET, now=T0, tries=1, sleep=lambda s: None)
    assert {r[2] for r in held(ledger)} == {"shipped"}
    assert "EndpointConnectionError" in noted(ledger)[0]
    collect_on_demand_prices(ledger, pricing.client(config=ONE_TRY), FLEET, now=T0)
    assert {r[2] for r in held(ledger)} == {"shipped", "pricing_api"}
    assert newest(ledger) == {"g5.xlarge": 1.006, "g5.2xlarge": 1.212}


def test_a_type_the_api_does_not_price_takes_the_fleets_own_price(
    ledger: Ledger, pricing: LocalPricing
) -> None:
    fleet = FLEET.model_copy(
        update={
            "instance_types": ("g5.xlarge", "g6.xlarge"),
            "on_demand_prices": {"g6.xlarge": 0.805},
        }
    )
    collect_on_demand_prices(ledger, pricing.client(config=ONE_TRY), fleet, now=T0)
    assert [(t, p, s) for t, p, s, _ in held(ledger)] == [
        ("g5.xlarge", 1.006, "pricing_api"),
        ("g6.xlarge", 0.805, "shipped"),
    ]


def test_with_the_api_off_only_the_shipped_list_is_written(
    ledger: Ledger, pricing: LocalPricing
) -> None:
    refresh = collect_on_demand_prices(ledger, None, FLEET, now=T0, use_api=False)
    assert refresh.new == 2 and pricing.calls == 0
    assert {r[2] for r in held(ledger)} == {"shipped"}


def test_settings_refuse_a_region_without_the_pricing_api_and_a_source_of_another_scheme() -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(
            environ={},
            pricing_region="us-west-2",
            advisor_source="s3://bucket/spot-advisor-data.json",
        )
    text = str(caught.value)
    assert "the Pricing API is not served in 'us-west-2': use one of us-east-1" in text
    assert "neither a file path nor an http(s) URL" in text
    url = "https://spot-bid-advisor.s3.amazonaws.com/spot-advisor-data.json"
    assert load_settings(environ={}, advisor_source=url).advisor_source == url


def test_the_daemon_schedules_both_daily_jobs_and_watches_them(
    ledger: Ledger, pricing: LocalPricing
) -> None:
    # The shipped copy of AWS's advisor file, beside the checkout (../shared/data).
    advisor = Path(__file__).resolve().parents[3] / "shared" / "data" / "spot-advisor-data.json"
    settings = DaemonSettings(fleets=(FLEET,), advisor_source=str(advisor))
    clients = Clients(lambda service, _region: pricing.client(config=ONE_TRY))
    jobs = {
        job.name: (job.run, job.every_s)
        for job in daily_signal_jobs(settings, ledger, clients, lambda: T0, lambda s: None)
    }
    assert {n: every for n, (_, every) in jobs.items()} == {
        "on_demand_prices": 86400.0,
        "advisor": 86400.0,
    }
    jobs["on_demand_prices"][0]()
    jobs["advisor"][0]()
    assert {r[2] for r in held(ledger)} == {"pricing_api"}
    assert history_rows(ledger, "SELECT count(*) FROM advisor_bands")[0][0] > 0
    pricing.refuse("AccessDeniedException")
    with pytest.raises(AwsCallError, match="pricing:GetProducts"):
        jobs["on_demand_prices"][0]()
    assert {"advisor", "on_demand_prices"} <= set(WATCHED)
    health = Health.for_settings(settings, leader=lambda: True)
    assert health._limits["advisor"] == health._limits["on_demand_prices"] == 3 * 86400.0
    off = DaemonSettings(fleets=(FLEET,), advisor_source="")
    assert [
        j.name for j in daily_signal_jobs(off, ledger, clients, lambda: T0, lambda s: None)
    ] == ["on_demand_prices"]
