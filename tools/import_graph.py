"""The reconciler's layers and the imports between them: print the graph, fail on an upward one.

``python tools/import_graph.py [ROOT]`` prints, for every layer, the layers it imports (with
the number of import statements), then every import that goes up or sideways (or breaks a
rule below), and exits 1 if there is one; ROOT is the repository (this one by default).
``tests/test_layering.py`` tests the check on a made-up tree. The layers are DESIGN.md's table,
bottom first; a module may import its own part and any layer below it, nothing else.
Every ``import`` counts, inside functions and ``TYPE_CHECKING`` blocks too (a lazy import is
still a dependency), relative ones resolved against their module.
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


# A part that may reach a lower one only through the modules named: the node runs without the
# daemon's dependencies, so of ``analytics`` it takes the kind vocabulary alone.
NARROW: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("gpu_node", "analytics", ("analytics.kinds",)),
)


# The deciding room and the acting loop are pure: they decide from what they are handed, so
# they import no library that talks to a database, a network, a process or a scheduler.
PURE = ("reconciler.decide", "reconciler.control")
IO_LIBRARIES = (
    "duckdb",
    "boto3",
    "botocore",
    "httpx",
    "requests",
    "urllib.request",
    "socket",
    "subprocess",
    "fastapi",
    "uvicorn",
    "apscheduler",
    "pulumi",
    "pulumi_aws",
)


@dataclass(frozen=True, slots=True)
class Import:
    source: str  # the importing module
    target: str  # the imported module (or a name in it)
    line: int


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_module(dotted: str, root: Path) -> bool:
    base = root.joinpath(*dotted.split("."))
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def _absolute(node: ast.ImportFrom, source: str, is_package: bool) -> str | None:
    """The module a ``from`` import names, a relative one resolved against its importer."""
    if node.level == 0:
        return node.module
    package = source.split(".") if is_package else source.split(".")[:-1]
    if node.level - 1 > len(package):
        return None  # beyond the top package: Python refuses it too
    base = package[: len(package) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base) or None


def imports_of(path: Path, root: Path = ROOT) -> list[Import]:
    source = module_name(path, root)
    is_package = path.name == "__init__.py"
    found: list[Import] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [Import(source, alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            module = _absolute(node, source, is_package)
            if module is None:
                continue
            # ``from gpu_node import diffusers_backend`` imports the module, not the package.
            targets = {
                f"{module}.{alias.name}" if _is_module(f"{module}.{alias.name}", root) else module
                for alias in node.names
            }
            found += [Import(source, target, node.lineno) for target in sorted(targets)]
    return [i for i in found if i.target.split(".")[0] in PACKAGES]


def io_imports(root: Path = ROOT) -> list[str]:
    """Imports of an I/O library (``IO_LIBRARIES``) in a pure part (``PURE``)."""
    bad: list[str] = []
    for part in PURE:
        for path in sorted((root / Path(*part.split("."))).rglob("*.py")):
            source = module_name(path, root)
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                    names = [node.module]
                else:
                    continue
                bad += [
                    f"{source}:{node.lineno} imports {name} ({part} is pure: no I/O library)"
                    for name in names
                    if any(_within(name, lib) for lib in IO_LIBRARIES)
                ]
    return bad


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


def all_imports(root: Path = ROOT) -> list[Import]:
    """Every import in the product's packages under ``root`` (the repository by default)."""
    found: list[Import] = []
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            found += imports_of(path, root)
    return found


def _within(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


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
            if i.source == a and _within(i.target, b):
                bad.append(
                    f"{i.source}:{i.line} imports {i.target} (a protocol knows no implementation)"
                )
        for part, lower, allowed in NARROW:
            if (
                _within(i.source, part)
                and _within(i.target, lower)
                and not any(_within(i.target, m) for m in allowed)
            ):
                only = ", ".join(allowed)
                bad.append(
                    f"{i.source}:{i.line} imports {i.target} ({part} may import only {only} "
                    f"from {lower})"
                )
    return bad


def graph(found: list[Import]) -> dict[str, Counter[str]]:
    edges: dict[str, Counter[str]] = {}
    for i in found:
        src, dst = part_of(i.source), part_of(i.target)
        if src and dst and src[1] != dst[1]:
            edges.setdefault(src[1], Counter())[dst[1]] += 1
    return edges


def main(argv: list[str]) -> int:
    root = Path(argv[0]) if argv else ROOT
    found = all_imports(root)
    edges = graph(found)
    for parts in reversed(LAYERS):
        for part in parts:
            below = ", ".join(f"{p} ({n})" for p, n in sorted(edges.get(part, Counter()).items()))
            print(f"{part:24} → {below or '-'}")
    bad = violations(found)
    for line in bad:
        print("UPWARD:", line)
    impure = io_imports(root)
    for line in impure:
        print("IMPURE:", line)
    return 1 if bad or impure else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
