"""Where SQL sits outside the history layer: print every place, fail if there is one.

``python tools/sql_locations.py`` reads every module of ``reconciler/``, ``gpu_node/`` and
``stacks/`` (``reconciler/core/history/`` excepted: the SQL belongs there, and in
``analytics/``, which is not read) and prints each line that talks SQL, then exits 1 if it
found one. It looks at the syntax tree, so a comment or a docstring that says "SELECT" does
not count. What counts:

* a DuckDB call: ``.execute(``, ``.executemany(``, ``.sql(``, ``duckdb.connect(``;
* the history's raw access: ``.rows(`` / ``.read_rows(`` / ``.con()`` on a ledger (or their
  private names), ``<x>.history.con`` (the connection itself);
* a string whose text starts with SELECT, INSERT, UPDATE, DELETE, CREATE or WITH.
"""

from __future__ import annotations

import ast
import re
import sys
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ALLOWED", "SCANNED", "Finding", "findings_in", "main", "sql_locations"]

ROOT = Path(__file__).resolve().parent.parent

SCANNED = ("reconciler", "gpu_node", "stacks")
ALLOWED = ("reconciler/core/history",)  # and analytics/, which is not scanned

_DUCKDB_CALLS = frozenset({"execute", "executemany", "sql"})
_LEDGER_ROWS = frozenset({"rows", "_rows", "read_rows", "_read_rows"})
_LEDGER_CON = frozenset({"con", "_con"})
_SQL_TEXT = re.compile(r"^\s*(SELECT|INSERT|UPDATE|DELETE|CREATE|WITH)\b")


@dataclass(frozen=True, slots=True, order=True)
class Finding:
    path: str  # relative to the root, with forward slashes
    line: int
    what: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.what}"


def _docstrings(tree: ast.Module) -> set[int]:
    """The ids of the docstring constants (a docstring may well say SELECT)."""
    found: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if (
                body
                and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)
            ):
                found.add(id(body[0].value))
    return found


def _call_finding(node: ast.Call) -> str | None:
    func = node.func
    if not isinstance(func, ast.Attribute):
        return None
    if func.attr == "connect" and isinstance(func.value, ast.Name) and func.value.id == "duckdb":
        return "duckdb.connect"
    if func.attr in _DUCKDB_CALLS:
        return f"a DuckDB call .{func.attr}("
    if func.attr in _LEDGER_ROWS:
        return f"the ledger's raw SQL .{func.attr}("
    if func.attr in _LEDGER_CON and not node.args and not node.keywords:
        return f"the ledger's connection .{func.attr}()"
    return None


def _text_of(node: ast.expr) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr) and node.values:
        first = node.values[0]
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            return first.value
    return None


def findings_in(path: Path, root: Path) -> list[Finding]:
    """Every place ``path`` talks SQL."""
    name = path.relative_to(root).as_posix()
    tree = ast.parse(path.read_text(), str(path))
    docstrings = _docstrings(tree)
    found: set[Finding] = set()
    inside_fstring: set[int] = set()
    for node in ast.walk(tree):
        what: str | None = None
        if isinstance(node, ast.Call):
            what = _call_finding(node)
        elif (
            isinstance(node, ast.Attribute)
            and node.attr == "con"
            and isinstance(node.value, ast.Attribute)
            and node.value.attr == "history"
        ):
            what = "the history's connection .history.con"
        elif isinstance(node, ast.JoinedStr | ast.Constant) and id(node) not in docstrings:
            if isinstance(node, ast.JoinedStr):
                inside_fstring.update(id(v) for v in node.values)
            elif id(node) in inside_fstring:
                continue
            text = _text_of(node)
            if text is not None and _SQL_TEXT.match(text):
                what = f"SQL text {text.strip().split(None, 1)[0]} ..."
        if what is not None:
            found.add(Finding(name, getattr(node, "lineno", 0), what))
    return sorted(found)


def sql_locations(root: Path = ROOT) -> list[Finding]:
    """Every place outside the history layer (and ``analytics/``) that talks SQL."""
    found: list[Finding] = []
    for package in SCANNED:
        for path in sorted((root / package).rglob("*.py")):
            name = path.relative_to(root).as_posix()
            if any(name.startswith(allowed + "/") for allowed in ALLOWED):
                continue
            found += findings_in(path, root)
    return found


def main() -> int:
    found = sql_locations()
    for finding in found:
        print(finding)
    files = sorted({f.path for f in found})
    print(f"{len(found)} SQL location(s) in {len(files)} file(s) outside the history layer")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
