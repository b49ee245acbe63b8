"""Fixtures every part's tests share."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def public_data() -> Path:
    """The public data beside the repository (``../shared/data``), or $SPOTFLEET_DATA."""
    path = Path(os.environ.get("SPOTFLEET_DATA", REPO.parent / "shared" / "data"))
    if not (path / "spot-traces").is_dir():
        pytest.fail(f"the public data is not at {path}: set SPOTFLEET_DATA to its folder")
    return path
