"""A price archive cut short is refused whole, at every cut point (issue 15 item 2): built
from the head of the public snapshot (tests' public data), compressed with the same zstd."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from analytics.errors import IngestError
from analytics.ingest.prices import ingest_price_snapshot
from analytics.store import open_history

from .conftest import count

CUTS = 40


def head_of_snapshot(public_data: Path, lines: int) -> bytes:
    with pa.OSFile(str(public_data / "spot-prices-2022-05-31.tsv.zst"), "rb") as raw:
        text = pa.CompressedInputStream(raw, "zstd").read(1 << 20)
    return b"".join(text.splitlines(keepends=True)[:lines])


def zstd(data: bytes, path: Path) -> bytes:
    with pa.CompressedOutputStream(str(path), "zstd") as out:
        out.write(data)
    return path.read_bytes()


@pytest.fixture
def archive(public_data: Path, tmp_path: Path) -> tuple[bytes, bytes]:
    text = head_of_snapshot(public_data, 2000)
    return text, zstd(text, tmp_path / "whole.tsv.zst")


def cut_points(size: int) -> list[int]:
    return sorted({1 + (size - 2) * i // (CUTS - 1) for i in range(CUTS)})


def test_the_whole_files_go_in(archive: tuple[bytes, bytes], tmp_path: Path) -> None:
    text, compressed = archive
    for name, data in (("whole.tsv", text), ("whole2.tsv.zst", compressed)):
        (tmp_path / name).write_bytes(data)
        with open_history(tmp_path / f"{name}.duckdb") as history:
            assert ingest_price_snapshot(history, tmp_path / name).rows_read == 2000


@pytest.mark.parametrize("suffix", [".tsv.zst", ".tsv"])
def test_every_cut_point_is_refused_as_truncated_and_nothing_is_stored(
    archive: tuple[bytes, bytes], tmp_path: Path, suffix: str
) -> None:
    text, compressed = archive
    data = compressed if suffix == ".tsv.zst" else text
    refused = []
    with open_history(tmp_path / "h.duckdb") as history:
        for cut in cut_points(len(data)):
            if suffix == ".tsv" and data[cut - 1 : cut] == b"\n":
                cut -= 1  # a cut right after a newline leaves whole lines: move it into one
            path = tmp_path / f"cut-{cut}{suffix}"
            path.write_bytes(data[:cut])
            with pytest.raises(IngestError) as caught:
                ingest_price_snapshot(history, path)
            assert caught.value.source == str(path)
            assert "truncated at byte" in caught.value.problem
            if suffix == ".tsv":
                assert f"truncated at byte {cut}:" in caught.value.problem
            else:
                assert caught.value.problem.startswith(f"truncated at byte {cut}:")
            refused.append(cut)
        assert count(history, "spot_prices") == 0 and count(history, "pools") == 0
    assert len(refused) >= CUTS - 2
