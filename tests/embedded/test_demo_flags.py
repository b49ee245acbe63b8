"""The demo refuses a bad flag before it starts anything, naming the flag as typed."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from reconciler.cli import app


@pytest.mark.parametrize(
    ("flags", "named"),
    [
        (["--warm-nodes", "-1"], "--warm-nodes -1: should be greater than or equal to 0"),
        (["--speed", "0"], "--speed 0.0: should be greater than 0"),
        (["--job-rate", "-5"], "--job-rate -5.0: should be greater than or equal to 0"),
        (["--nodes", "0"], "--nodes 0: should be greater than or equal to 1"),
    ],
)
def test_a_bad_flag_is_named_as_typed_and_nothing_is_written(
    tmp_path: Path, flags: list[str], named: str
) -> None:
    out = tmp_path / "demo"
    done = CliRunner().invoke(app, ["demo", "--out", str(out), *flags])
    assert done.exit_code == 2, done.output
    assert named in " ".join(done.output.split()), done.output
    assert "pydantic" not in done.output
    assert not out.exists()
