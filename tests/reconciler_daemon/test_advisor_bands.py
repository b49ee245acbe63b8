"""The advisor collector on the public Spot Advisor file (``../shared/data``, as AWS publishes
it), read from a path and over real HTTP; bad files are refused whole and the bands held stay."""

from __future__ import annotations

import contextlib
import functools
import json
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from reconciler.collect.advisor_bands import TARGET, collect_advisor_bands
from reconciler.core.errors import MarketDataError
from reconciler.core.history.ledger import Ledger
from tests.history_rows import history_rows

from .conftest import T0

PUBLISHED_BANDS = 25323  # (region, OS, type) in the shipped file


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextlib.contextmanager
def serving(folder: Path) -> Iterator[str]:
    """A real HTTP server over ``folder``; its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=folder))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


# The shipped copy of AWS's file, beside the checkout (../shared/data).
SHIPPED_ADVISOR = Path(__file__).resolve().parents[3] / "shared" / "data" / "spot-advisor-data.json"


def bands(ledger: Ledger) -> int:
    return int(history_rows(ledger, "SELECT count(*) FROM advisor_bands")[0][0])


def refusals(ledger: Ledger) -> list[tuple[Any, ...]]:
    return history_rows(
        ledger,
        "SELECT fleet, target, status, detail FROM fleet_actions WHERE kind = 'signal_failed'",
    )


def test_the_shipped_file_is_read_once_and_again_changes_nothing(ledger: Ledger) -> None:
    first = collect_advisor_bands(ledger, str(SHIPPED_ADVISOR), now=T0)
    assert (first.bands, first.new) == (PUBLISHED_BANDS, PUBLISHED_BANDS)
    again = collect_advisor_bands(ledger, str(SHIPPED_ADVISOR), now=T0)
    assert (again.bands, again.new) == (PUBLISHED_BANDS, 0)
    assert bands(ledger) == PUBLISHED_BANDS
    row = history_rows(
        ledger,
        "SELECT band, band_label, savings_pct, source FROM advisor_bands WHERE region = "
        "'us-east-1' AND operating_system = 'Linux' AND instance_type = 'g5.xlarge'",
    )
    assert row == [(4, ">20%", 59, str(SHIPPED_ADVISOR))]


def test_over_http_a_truncated_file_is_refused_and_the_bands_held_stay(
    ledger: Ledger, tmp_path: Path
) -> None:
    text = SHIPPED_ADVISOR.read_text()
    (tmp_path / "spot-advisor-data.json").write_text(text)
    (tmp_path / "cut.json").write_text(text[: len(text) // 2])
    with serving(tmp_path) as base:
        url = f"{base}/spot-advisor-data.json"
        assert collect_advisor_bands(ledger, url, now=T0).new == PUBLISHED_BANDS
        with pytest.raises(MarketDataError, match="refused the Spot Advisor file.*not JSON"):
            collect_advisor_bands(ledger, f"{base}/cut.json", now=T0)
        with pytest.raises(MarketDataError, match="answered HTTP 404"):
            collect_advisor_bands(ledger, f"{base}/missing.json", now=T0)
    assert bands(ledger) == PUBLISHED_BANDS
    assert history_rows(ledger, "SELECT DISTINCT source FROM advisor_bands") == [(url,)]
    noted = refusals(ledger)
    assert [(f, t, s) for f, t, s, _ in noted] == [("*", TARGET, "failed")] * 2
    assert any("404" in detail for *_, detail in noted)


def test_a_file_that_parses_but_holds_a_fraction_of_the_bands_is_refused(
    ledger: Ledger, tmp_path: Path
) -> None:
    collect_advisor_bands(ledger, str(SHIPPED_ADVISOR), now=T0)
    document = json.loads(SHIPPED_ADVISOR.read_text())
    document["spot_advisor"] = {"us-east-1": document["spot_advisor"]["us-east-1"]}
    small = tmp_path / "one-region.json"
    small.write_text(json.dumps(document))
    with pytest.raises(MarketDataError, match=f"where the history holds {PUBLISHED_BANDS}"):
        collect_advisor_bands(ledger, str(small), now=T0)
    assert bands(ledger) == PUBLISHED_BANDS


def test_a_band_outside_the_ranges_refuses_the_whole_file(ledger: Ledger, tmp_path: Path) -> None:
    document = json.loads(SHIPPED_ADVISOR.read_text())
    document["spot_advisor"]["us-east-1"]["Linux"]["g5.xlarge"]["r"] = 9
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(document))
    with pytest.raises(MarketDataError, match=r"g5\.xlarge\.r: band 9 is not in ranges"):
        collect_advisor_bands(ledger, str(bad), now=T0)
    assert bands(ledger) == 0
    with pytest.raises(MarketDataError, match="cannot read the Spot Advisor file"):
        collect_advisor_bands(ledger, str(tmp_path / "nowhere.json"), now=T0)
    assert len(refusals(ledger)) == 2
