"""The layering check (tools/import_graph.py) on a made-up tree of the product's packages.

The real tree is asserted clean in tests/test_structure.py.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tools.import_graph import ROOT, all_imports, io_imports, violations


def tree(root: Path, files: dict[str, str]) -> Path:
    """Write ``files`` (path -> source) under ``root``, with the packages' ``__init__.py``."""
    for name, source in files.items():
        path = root / name
        for parent in reversed(path.relative_to(root).parents):
            if parent != Path():
                (root / parent).mkdir(exist_ok=True)
                (root / parent / "__init__.py").touch()
        path.write_text(source)
    return root


def found_in(root: Path) -> list[str]:
    return violations(all_imports(root))


def test_an_import_of_a_layer_above_is_found(tmp_path: Path) -> None:
    root = tree(
        tmp_path,
        {
            "reconciler/core/settings.py": "from reconciler.daemon.health import Health\n",
            "reconciler/daemon/health.py": "Health = object\n",
        },
    )

    [problem] = found_in(root)

    assert problem.startswith("reconciler.core.settings:1 imports reconciler.daemon.health")
    assert "(reconciler.core → reconciler.daemon, up)" in problem


def test_an_import_of_a_layer_below_or_of_its_own_part_is_not(tmp_path: Path) -> None:
    root = tree(
        tmp_path,
        {
            "analytics/kinds.py": "",
            "reconciler/core/settings.py": "",
            "reconciler/core/reactions.py": "import reconciler.core.settings\n",
            "reconciler/daemon/health.py": (
                "from analytics.kinds import Kind\nfrom reconciler.core import settings\n"
            ),
            "gpu_node/notices.py": "from analytics.kinds import Kind\n",
        },
    )

    assert found_in(root) == []


def test_an_import_between_siblings_is_found(tmp_path: Path) -> None:
    root = tree(
        tmp_path,
        {
            "reconciler/actuate/scaler.py": "from reconciler.collect.aws import aws_call\n",
            "reconciler/collect/aws.py": "",
        },
    )

    [problem] = found_in(root)

    assert "(reconciler.actuate → reconciler.collect, sideways)" in problem


def test_an_import_inside_a_function_counts(tmp_path: Path) -> None:
    root = tree(
        tmp_path,
        {
            "reconciler/decide/model.py": (
                "def train() -> None:\n    from reconciler.api.app import make_app\n"
            ),
            "reconciler/api/app.py": "",
        },
    )

    [problem] = found_in(root)

    assert problem.startswith("reconciler.decide.model:2 imports reconciler.api.app")


def test_relative_and_from_package_imports_are_resolved(tmp_path: Path) -> None:
    root = tree(
        tmp_path,
        {
            "reconciler/core/ledger.py": "from ..daemon import health\n",
            "reconciler/collect/prices.py": "from reconciler import actuate\n",
            "reconciler/daemon/health.py": "",
            "reconciler/actuate/__init__.py": "",
        },
    )

    problems = found_in(root)

    assert len(problems) == 2
    assert any("reconciler.core.ledger:1 imports reconciler.daemon.health" in p for p in problems)
    assert any("reconciler.collect.prices:1 imports reconciler.actuate" in p for p in problems)


def test_the_backend_protocol_may_not_import_an_implementation(tmp_path: Path) -> None:
    root = tree(
        tmp_path,
        {
            "gpu_node/backend.py": "from gpu_node import diffusers_backend\n",
            "gpu_node/diffusers_backend.py": "from gpu_node.backend import OnStep\n",
        },
    )

    [problem] = found_in(root)

    assert problem == (
        "gpu_node.backend:1 imports gpu_node.diffusers_backend (a protocol knows no implementation)"
    )


def test_the_node_takes_only_the_kind_vocabulary_from_analytics(tmp_path: Path) -> None:
    root = tree(
        tmp_path,
        {
            "gpu_node/notices.py": "from analytics.kinds import Kind\n",
            "gpu_node/events.py": "from analytics.events import parse_envelope\n",
            "analytics/kinds.py": "",
            "analytics/events.py": "",
        },
    )

    [problem] = found_in(root)

    assert problem == (
        "gpu_node.events:1 imports analytics.events "
        "(gpu_node may import only analytics.kinds from analytics)"
    )


def test_the_command_names_the_upward_import_and_fails(tmp_path: Path) -> None:
    root = tree(
        tmp_path,
        {"analytics/store.py": "import reconciler.cli\n", "reconciler/cli.py": ""},
    )

    run = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "import_graph.py"), str(root)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert run.returncode == 1
    assert "UPWARD: analytics.store:1 imports reconciler.cli (analytics → reconciler.cli, up)" in (
        run.stdout
    )


def test_an_io_library_in_the_pure_parts_is_found_and_elsewhere_is_not(tmp_path: Path) -> None:
    root = tree(
        tmp_path,
        {
            "reconciler/decide/model.py": "import numpy\n\ndef f():\n    import duckdb\n",
            "reconciler/control/loop.py": "from botocore.exceptions import ClientError\n",
            "reconciler/core/history/ledger.py": "import duckdb\n",
        },
    )

    found = io_imports(root)

    assert [line.split(" (")[0] for line in found] == [
        "reconciler.decide.model:4 imports duckdb",  # inside a function: still a dependency
        "reconciler.control.loop:1 imports botocore.exceptions",
    ]
