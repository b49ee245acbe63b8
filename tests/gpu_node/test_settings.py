"""Settings from the environment, and the node's identity from IMDS or overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from gpu_node.errors import SettingsError
from gpu_node.identity import resolve_identity
from gpu_node.imds import ImdsClient
from gpu_node.settings import load_settings
from tests.gpu_node.aws_env import Fleet
from tests.gpu_node.imds_server import FakeImds
from tests.gpu_node.processes import NodeProcess


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    monkeypatch.setenv("SPOTFLEET_QUEUE_URL", "http://q")
    monkeypatch.setenv("SPOTFLEET_RESULTS_BUCKET", "results")
    return monkeypatch


def test_defaults_are_the_documented_ones(env: pytest.MonkeyPatch) -> None:
    settings = load_settings()
    assert settings.imds_url == "http://169.254.169.254"
    assert settings.host == "127.0.0.1"
    assert settings.port == 8080
    assert settings.cpu_threads == 1
    assert settings.poll_wait_seconds == 20
    assert settings.priority_queue_url is None
    assert settings.events_topic_arn is None
    assert settings.model_s3_uri is None
    assert settings.served_model == "model"  # the model directory's name


def test_missing_and_out_of_range_settings_are_named(env: pytest.MonkeyPatch) -> None:
    env.delenv("SPOTFLEET_RESULTS_BUCKET")
    env.setenv("SPOTFLEET_IMDS_POLL_SECONDS", "5")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert "SPOTFLEET_RESULTS_BUCKET" in str(caught.value)
    assert "SPOTFLEET_IMDS_POLL_SECONDS" in str(caught.value)


def test_identity_comes_from_imds_unless_a_setting_overrides_it(
    env: pytest.MonkeyPatch, imds: FakeImds
) -> None:
    env.setenv("SPOTFLEET_INSTANCE_TYPE", "g5.2xlarge")
    identity = resolve_identity(load_settings(), ImdsClient(base_url=imds.url))
    assert identity.instance_id == "i-0123456789abcdef0"
    assert identity.instance_type == "g5.2xlarge"
    assert identity.pool == "us-east-1/us-east-1b/g5.2xlarge"


def test_without_imds_a_local_run_gets_a_local_identity(env: pytest.MonkeyPatch) -> None:
    env.setenv("SPOTFLEET_AVAILABILITY_ZONE", "eu-west-1c")
    identity = resolve_identity(
        load_settings(), ImdsClient(base_url="http://127.0.0.1:9", timeout=0.5)
    )
    assert identity.instance_id.startswith("local-")
    assert identity.region == "eu-west-1"
    assert identity.pool == "eu-west-1/eu-west-1c/local"


def test_a_node_without_a_usable_model_exits_with_the_reason(
    fleet: Fleet, imds: FakeImds, tmp_path: Path
) -> None:
    env = fleet.settings_env(SPOTFLEET_IMDS_URL=imds.url, SPOTFLEET_MODEL_DIR=str(tmp_path))
    node = NodeProcess("gpu_node", env, tmp_path / "node.log")
    try:
        assert node.wait(timeout=60) == 2
        assert "not a diffusers model directory" in node.log()
    finally:
        node.stop()
