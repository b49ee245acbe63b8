"""A standby node's identity file: SPOTFLEET_* settings, read once it exists."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from gpu_node.errors import NodeError
from gpu_node.standby import wait_for_identity, waiting_marker


def test_the_identity_is_read_once_its_file_appears(tmp_path: Path) -> None:
    path = tmp_path / "standby.json"
    writer = threading.Timer(0.2, path.write_text, args=(json.dumps({"SPOTFLEET_PORT": "9"}),))
    writer.start()
    assert wait_for_identity(path, poll_s=0.01) == {"SPOTFLEET_PORT": "9"}
    writer.join()
    assert waiting_marker(path).name == "standby.json.waiting"


@pytest.mark.parametrize(
    "body", ["not json", "[1, 2]", '{"AWS_SECRET_ACCESS_KEY": "x"}', '{"SPOTFLEET_PORT": 9}']
)
def test_anything_but_spotfleet_settings_is_refused(tmp_path: Path, body: str) -> None:
    path = tmp_path / "standby.json"
    path.write_text(body)
    with pytest.raises(NodeError, match="standby identity"):
        wait_for_identity(path)


def test_waiting_can_be_given_up(tmp_path: Path) -> None:
    assert wait_for_identity(tmp_path / "never.json", poll_s=0.01, stop=lambda: True) == {}
