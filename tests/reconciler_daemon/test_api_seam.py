"""The status API reads a leading daemon through the view it declares
(``reconciler.api.status_view``), never the daemon's internals: the daemon sits above it."""

from __future__ import annotations

import ast
from pathlib import Path

import reconciler.api

API = Path(reconciler.api.__file__).parent


def _imported_modules(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def test_no_module_of_the_api_imports_the_daemon() -> None:
    upward = {
        f"{path.name} imports {module}"
        for path in sorted(API.rglob("*.py"))
        for module in _imported_modules(path)
        if module == "reconciler.daemon" or module.startswith("reconciler.daemon.")
    }
    assert not upward, sorted(upward)


def test_the_api_sends_no_sql_of_its_own_for_its_lists() -> None:
    # The decisions and nodes lists are named reads in reconciler.core.history.run_reads.
    assert "SELECT" not in (API / "source.py").read_text()
