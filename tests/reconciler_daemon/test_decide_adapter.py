from __future__ import annotations

import logging
from pathlib import Path

import pytest

from reconciler.daemon.decide_adapter import DecideError, load_model
from reconciler.daemon.errors import DaemonError


def test_a_model_not_trained_yet_leaves_the_baseline_deciding(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        assert load_model(tmp_path / "model") is None
    assert "baseline decides until one is trained" in caplog.text
    assert load_model(None) is None


def test_a_corrupt_model_is_a_daemon_error_naming_the_path(tmp_path: Path) -> None:
    (tmp_path / "model.json").write_text("{not json")
    with pytest.raises(DecideError, match=str(tmp_path)) as caught:
        load_model(tmp_path)
    assert isinstance(caught.value, DaemonError)  # the CLI reports it in one line, exit 2
