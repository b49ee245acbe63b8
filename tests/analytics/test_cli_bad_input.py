"""Bad input through the real command: one line naming the file (and line), never a
traceback; exit 2 when refused, 3 when an events file was taken in part."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.fixtures import payload

from .test_cli import cli

NESTED = "[" * 100_000 + "]" * 100_000  # a few hundred KB, deeper than Python's recursion limit


def one_line_error(stderr: str, path: Path) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr and str(path) in lines[0]
    return lines[0]


@pytest.mark.parametrize("kind", ["prices", "on-demand", "advisor", "events", "traces"])
def test_invalid_utf8_is_one_line_naming_the_file_and_line(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "input.json"
    if kind == "traces":
        path = tmp_path / "aws-03-01-2024" / "us-east-1a_v100_1.json"
        path.parent.mkdir()
    path.write_bytes(b'{"a": 1,\n "b": "\xff\xfe"}\n')
    target = path.parent if kind == "traces" else path
    run = cli(tmp_path / "h.duckdb", "ingest", kind, str(target), check=False)
    assert run.returncode == 2
    assert "line 2: is not UTF-8" in one_line_error(run.stderr, path)


def test_invalid_utf8_in_a_price_snapshot_is_one_line_naming_the_line(tmp_path: Path) -> None:
    path = tmp_path / "prices.tsv"
    good = b"use1-az1\tg5.xlarge\tLinux/UNIX\t0.5\t2022-05-31T18:20:41+00:00\n"
    path.write_bytes(good + good.replace(b"g5.x", b"g5.\xff"))
    run = cli(tmp_path / "h.duckdb", "ingest", "price-snapshot", str(path), check=False)
    assert run.returncode == 2
    assert one_line_error(run.stderr, path).endswith("line 2: is not UTF-8 text")


@pytest.mark.parametrize("kind", ["prices", "on-demand", "advisor", "traces"])
def test_deeply_nested_json_is_one_line_naming_the_file(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "input.json"
    if kind == "traces":
        path = tmp_path / "aws-03-01-2024" / "us-east-1a_v100_1.json"
        path.parent.mkdir()
    path.write_text(NESTED)
    target = path.parent if kind == "traces" else path
    run = cli(tmp_path / "h.duckdb", "ingest", kind, str(target), check=False)
    assert run.returncode == 2
    assert "nested too deeply" in one_line_error(run.stderr, path)


def test_an_events_file_goes_in_but_its_bad_lines_which_are_named_and_kept(
    tmp_path: Path,
) -> None:
    warning = json.dumps(json.loads(payload("events/spot-interruption-warning.json")))
    sns = json.dumps(json.loads(payload("events/sns-wrapped-spot-interruption-warning.json")))
    rebalance = json.dumps(json.loads(payload("events/rebalance-recommendation.json")))
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join([warning, "{cut off", rebalance, NESTED, sns]) + "\n")
    db = tmp_path / "h.duckdb"
    run = cli(db, "ingest", "events", str(path), check=False)
    assert run.returncode == 3, run.stderr
    assert "Traceback" not in run.stderr
    assert f"{path}, line 2: not JSON" in run.stderr
    assert f"{path}, line 4: not an envelope: JSON nested too deeply" in run.stderr
    kinds = cli(
        db, "sql", "SELECT kind, count(*) AS n FROM interruption_events GROUP BY 1 ORDER BY 1",
        "--format", "json",
    ).stdout  # fmt: skip
    assert json.loads(kinds) == [
        {"kind": "rebalance_recommendation", "n": 1},
        {"kind": "spot_interruption_warning", "n": 1},  # the SNS copy is the same event
        {"kind": "unparseable", "n": 2},
    ]
