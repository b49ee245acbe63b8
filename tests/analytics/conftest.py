from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from analytics.store import History, open_history


@pytest.fixture
def history(tmp_path: Path) -> Iterator[History]:
    with open_history(tmp_path / "history.duckdb") as opened:
        yield opened


def count(history: History, table: str) -> int:
    return int(history.con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0])


def write_trace(folder: Path, stem: str, data: list[object], gap: object = 60) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{stem}.json"
    path.write_text(json.dumps({"metadata": {"gap_seconds": gap}, "data": data}))
    return path
