"""The product's source files over the size a module may have: print them, fail if any.

``python tools/file_sizes.py [ROOT] [--limit N]`` lists every ``.py`` file under the product's
packages (``analytics``, ``reconciler``, ``gpu_node``, ``stacks``; not tests, benchmarks or
tools) longer than N lines (400 by default, issue 17's cap), longest first, and exits 1 if
there is one. A file past the cap is doing two jobs: split it by job, not by line count.
Lines are counted as ``wc -l`` counts them.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRODUCT = ("analytics", "reconciler", "gpu_node", "stacks")
LIMIT = 400


@dataclass(frozen=True, slots=True)
class SourceFile:
    path: Path  # relative to the root
    lines: int


def line_count(path: Path) -> int:
    return path.read_bytes().count(b"\n")


def oversized(root: Path = ROOT, *, limit: int = LIMIT) -> list[SourceFile]:
    """The product's source files longer than ``limit`` lines, longest first."""
    found = [
        SourceFile(path.relative_to(root), line_count(path))
        for package in PRODUCT
        for path in sorted((root / package).rglob("*.py"))
    ]
    return sorted((f for f in found if f.lines > limit), key=lambda f: (-f.lines, str(f.path)))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("root", nargs="?", type=Path, default=ROOT)
    parser.add_argument("--limit", type=int, default=LIMIT)
    args = parser.parse_args(argv)
    found = oversized(args.root, limit=args.limit)
    for f in found:
        print(f"{f.lines:6} {f.path}")
    print(f"{len(found)} source file(s) over {args.limit} lines")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
