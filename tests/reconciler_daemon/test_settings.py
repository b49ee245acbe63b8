from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from reconciler.daemon.settings import load_settings

TOML = """
mode = "shadow"
api_port = 9100

[safety]
churn_per_hour = 2

[[fleets]]
name = "gen"
instance_types = ["g5.xlarge"]
subnets = { "us-east-1a" = "subnet-1" }
on_demand_group = "spotfleet-gen-on-demand"
spot_groups = { "us-east-1/us-east-1a/g5.xlarge" = "spotfleet-gen-us-east-1a-g5-xlarge" }
"""


def test_defaults_are_safe_without_any_file() -> None:
    s = load_settings()
    assert s.mode == "shadow" and s.api_host == "127.0.0.1" and s.api_token is None


def test_file_then_environment_with_nested_keys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "daemon.toml"
    path.write_text(TOML)
    monkeypatch.setenv("SPOTFLEET_DAEMON_API_PORT", "9200")
    monkeypatch.setenv("SPOTFLEET_DAEMON_SAFETY__STALE_AFTER_S", "60")
    s = load_settings(path)
    assert s.api_port == 9200  # the environment wins over the file
    assert s.safety.churn_per_hour == 2 and s.safety.stale_after_s == 60
    assert s.fleet("gen").pools() == ("us-east-1/us-east-1a/g5.xlarge",)


def test_a_typo_in_the_file_is_refused_not_ignored(tmp_path: Path) -> None:
    path = tmp_path / "daemon.toml"
    path.write_text(TOML + "\nchurn_per_huor = 3\n")
    with pytest.raises(ValidationError):
        load_settings(path)


def test_a_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        load_settings(tmp_path / "nope.toml")
