"""Is a file whole? A price archive cut short (a download that stopped, a disk that filled)
must be refused, not ingested as if complete with its cut last line as a real row.

A ``.zst`` file's frames must end cleanly (zstd knows where a frame ends; a cut one is an
error, not an early end), and every line must end with its newline: the archive writes one
after each row, so a missing one is a cut line, in plain and compressed files alike.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from analytics.errors import IngestError

__all__ = ["check_whole"]

_CHUNK = 1 << 20


def check_whole(path: Path) -> None:
    """Raise ``IngestError`` naming the file and "truncated at byte N" when it was cut."""
    source = str(path)
    size = path.stat().st_size
    compressed = path.suffix == ".zst"
    lines = 0
    last = b"\n"
    length = 0
    try:
        with pa.OSFile(source, "rb") as raw:
            stream = pa.CompressedInputStream(raw, "zstd") if compressed else raw
            while chunk := stream.read(_CHUNK):
                lines += chunk.count(b"\n")
                length += len(chunk)
                last = chunk[-1:]
    except OSError as exc:
        if compressed and "truncated" in str(exc).lower():
            raise IngestError(
                source,
                "",
                f"truncated at byte {size}: its zstd frame does not end (the file was cut "
                "short; fetch it again)",
            ) from exc
        raise IngestError(source, "", f"cannot be read as zstd ({exc})") from exc
    if last != b"\n":
        where = f"byte {length} of its decompressed text" if compressed else f"byte {size}"
        raise IngestError(
            source,
            "",
            f"truncated at {where}: line {lines + 1} does not end with a newline (the file "
            "was cut short; fetch it again)",
        )
