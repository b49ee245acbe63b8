from __future__ import annotations

import json
from pathlib import Path

import pytest

from analytics.errors import IngestError
from analytics.ingest.advisor import ingest_advisor
from analytics.store import History

from .conftest import count

RANGES = [{"index": 0, "label": "<5%", "max": 5}, {"index": 4, "label": ">20%", "max": 100}]


def advisor(path: Path, regions: dict) -> Path:
    path.write_text(json.dumps({"ranges": RANGES, "spot_advisor": regions}))
    return path


def test_bands_are_read_per_region_os_and_type(history: History, tmp_path: Path) -> None:
    path = advisor(
        tmp_path / "a.json",
        {
            "us-east-1": {
                "Linux": {"g5.xlarge": {"s": 59, "r": 4}, "p5.48xlarge": {"s": -62, "r": 0}}
            }
        },
    )
    assert ingest_advisor(history, path).inserted == {"advisor_bands": 2}
    rows = history.con.execute(
        "SELECT instance_type, savings_pct, band, band_label, band_max_pct FROM advisor_bands ORDER BY 1"
    ).fetchall()
    # Negative savings are real (spot above on-demand) and kept.
    assert rows == [("g5.xlarge", 59, 4, ">20%", 100), ("p5.48xlarge", -62, 0, "<5%", 5)]


def test_a_newer_file_restates_bands_and_the_same_file_changes_nothing(
    history: History, tmp_path: Path
) -> None:
    path = advisor(tmp_path / "a.json", {"us-east-1": {"Linux": {"g5.xlarge": {"s": 59, "r": 4}}}})
    ingest_advisor(history, path)
    assert ingest_advisor(history, path).rows_inserted == 0
    advisor(path, {"us-east-1": {"Linux": {"g5.xlarge": {"s": 70, "r": 0}}}})
    ingest_advisor(history, path)
    assert history.con.execute("SELECT savings_pct, band FROM advisor_bands").fetchall() == [
        (70, 0)
    ]


@pytest.mark.parametrize(
    ("entry", "key"),
    [
        ({"s": 50, "r": 3}, "spot_advisor.us-east-1.Linux.g5.xlarge.r"),
        ({"s": "x", "r": 0}, "spot_advisor.us-east-1.Linux.g5.xlarge.s"),
    ],
)
def test_a_bad_entry_is_named_by_its_key(
    history: History, tmp_path: Path, entry: dict, key: str
) -> None:
    path = advisor(
        tmp_path / "a.json",
        {"us-east-1": {"Linux": {"g4dn.xlarge": {"s": 1, "r": 0}, "g5.xlarge": entry}}},
    )
    with pytest.raises(IngestError) as caught:
        ingest_advisor(history, path)
    assert caught.value.where == key
    assert count(history, "advisor_bands") == 0


def test_the_public_advisor_file(history: History, public_data: Path) -> None:
    result = ingest_advisor(history, public_data / "spot-advisor-data.json")
    assert result.inserted["advisor_bands"] == count(history, "advisor_bands") > 10_000
    bands = history.con.execute("SELECT DISTINCT band FROM advisor_bands ORDER BY 1").fetchall()
    assert [b[0] for b in bands] == [0, 1, 2, 3, 4]
