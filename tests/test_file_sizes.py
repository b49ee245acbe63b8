"""The file-size check (tools/file_sizes.py) on a made-up tree.

The real tree is asserted under the cap in tests/test_structure.py.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tools.file_sizes import ROOT, SourceFile, oversized


def write(root: Path, name: str, lines: int) -> None:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"x{i} = {i}\n" for i in range(lines)))


def test_a_source_file_over_the_limit_is_listed_and_one_at_it_is_not(tmp_path: Path) -> None:
    write(tmp_path, "reconciler/embedded/demo.py", 401)
    write(tmp_path, "reconciler/daemon/cycle.py", 400)
    write(tmp_path, "gpu_node/worker.py", 450)

    assert oversized(tmp_path) == [
        SourceFile(Path("gpu_node/worker.py"), 450),
        SourceFile(Path("reconciler/embedded/demo.py"), 401),
    ]


def test_only_the_products_source_counts(tmp_path: Path) -> None:
    for name in ("tests/test_big.py", "benchmarks/big.py", "tools/big.py", "stacks/notes.txt"):
        write(tmp_path, name, 900)
    write(tmp_path, "analytics/store.py", 10)

    assert oversized(tmp_path) == []


def test_the_limit_can_be_set(tmp_path: Path) -> None:
    write(tmp_path, "stacks/fleet.py", 120)

    assert oversized(tmp_path, limit=100) == [SourceFile(Path("stacks/fleet.py"), 120)]


def test_the_command_lists_the_long_files_and_fails(tmp_path: Path) -> None:
    write(tmp_path, "analytics/report.py", 401)

    run = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "file_sizes.py"), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert run.returncode == 1
    assert run.stdout.splitlines() == [
        "   401 analytics/report.py",
        "1 source file(s) over 400 lines",
    ]
