"""The reconciler's layers and the imports between them: print the graph, fail on an upward one.

``python tools/import_graph.py`` prints, for every layer, the layers it imports (with the
number of import statements), then every import that goes up or sideways, and exits 1 if
there is one. ``tests/test_layering.py`` runs the same check. The layers are DESIGN.md's
table, bottom first; a module may import its own part and any layer below it, nothing else.
Every ``import`` counts, inside functions and ``TYPE_CHECKING`` blocks too: a lazy import is
still a dependency.
"""

from __future__ import annotations

import ast
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Bottom first. Parts on one rank are siblings: neither may import the other.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("analytics",),
    ("gpu_node",),
    ("stacks",),
    ("reconciler.core",),
    ("reconciler.decide",),
    ("reconciler.control",),
    ("reconciler.collect", "reconciler.actuate"),
    ("reconciler.replay",),
    ("reconciler.api",),
    ("reconciler.daemon",),
    ("reconciler.embedded",),
    ("reconciler.commands",),
    ("reconciler.cli",),
    ("reconciler.__main__",),
)
# Module pairs inside one part that must not meet: a protocol knows no implementation.
FORBIDDEN: tuple[tuple[str, str], ...] = (
    ("gpu_node.backend", "gpu_node.diffusers_backend"),
    ("gpu_node.backend", "gpu_node.backends"),
)
PACKAGES = ("analytics", "stacks", "gpu_node", "reconciler")


@dataclass(frozen=True, slots=True)
class Import:
    source: str  # the importing module
    target: str  # the imported module (or a name in it)
    line: int


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path) -> list[Import]:
    source = module_name(path)
    found: list[Import] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [Import(source, alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(Import(source, node.module, node.lineno))
    return [i for i in found if i.target.split(".")[0] in PACKAGES]


def part_of(module: str) -> tuple[int, str] | None:
    """(rank, part) of the longest part naming ``module``; None for a module outside them."""
    best: tuple[int, str] | None = None
    for rank, parts in enumerate(LAYERS):
        for part in parts:
            if (module == part or module.startswith(part + ".")) and (
                best is None or len(part) > len(best[1])
            ):
                best = (rank, part)
    return best


def all_imports() -> list[Import]:
    found: list[Import] = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            found += imports_of(path)
    return found


def violations(found: list[Import]) -> list[str]:
    bad: list[str] = []
    for i in found:
        src, dst = part_of(i.source), part_of(i.target)
        if src is None or dst is None or src[1] == dst[1]:
            pass
        elif dst[0] >= src[0]:
            way = "sideways" if dst[0] == src[0] else "up"
            bad.append(f"{i.source}:{i.line} imports {i.target} ({src[1]} → {dst[1]}, {way})")
        for a, b in FORBIDDEN:
            if i.source == a and (i.target == b or i.target.startswith(b + ".")):
                bad.append(
                    f"{i.source}:{i.line} imports {i.target} (a protocol knows no implementation)"
                )
    return bad


def graph(found: list[Import]) -> dict[str, Counter[str]]:
    edges: dict[str, Counter[str]] = {}
    for i in found:
        src, dst = part_of(i.source), part_of(i.target)
        if src and dst and src[1] != dst[1]:
            edges.setdefault(src[1], Counter())[dst[1]] += 1
    return edges


def main() -> int:
    found = all_imports()
    edges = graph(found)
    for parts in reversed(LAYERS):
        for part in parts:
            below = ", ".join(f"{p} ({n})" for p, n in sorted(edges.get(part, Counter()).items()))
            print(f"{part:24} → {below or '-'}")
    bad = violations(found)
    for line in bad:
        print("UPWARD:", line)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
