"""The real backend on the tiny model: built by the CLI, loaded by ``python -m gpu_node run``."""

from __future__ import annotations

import io
import json
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from PIL import Image

from gpu_node.backend import pipeline_class_name
from gpu_node.cache import publish_model
from gpu_node.errors import ModelError, UnsupportedModelError
from tests.gpu_node.aws_env import Fleet, free_port, job
from tests.gpu_node.harness import wait_for
from tests.gpu_node.imds_server import FakeImds
from tests.gpu_node.processes import ROOT, NodeProcess


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("models") / "tiny-sd"
    subprocess.run(
        [sys.executable, "-m", "gpu_node", "make-tiny-model", str(directory)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=240,
    )
    return directory


def test_the_pipeline_is_chosen_by_the_models_own_config(tmp_path: Path) -> None:
    (tmp_path / "model_index.json").write_text(
        json.dumps({"_class_name": "StableDiffusionXLPipeline"})
    )
    assert pipeline_class_name(tmp_path) == "StableDiffusionXLPipeline"
    (tmp_path / "model_index.json").write_text(json.dumps({"_class_name": "KandinskyPipeline"}))
    with pytest.raises(UnsupportedModelError, match="KandinskyPipeline"):
        pipeline_class_name(tmp_path)
    (tmp_path / "model_index.json").unlink()
    with pytest.raises(ModelError, match="not a diffusers model"):
        pipeline_class_name(tmp_path)


@pytest.mark.slow
def test_the_tiny_model_generates_through_the_real_backend_and_the_health_api(
    tiny_model: Path, fleet: Fleet, imds: FakeImds, tmp_path: Path
) -> None:
    assert pipeline_class_name(tiny_model) == "StableDiffusionPipeline"
    # The node gets its model the production way: synced from the cache bucket first.
    uri = f"s3://{fleet.bucket}/models/tiny-sd"
    publish_model(s3=fleet.clients.s3, model_dir=tiny_model, uri=uri)
    port = free_port()
    env = fleet.settings_env(
        SPOTFLEET_IMDS_URL=imds.url,
        SPOTFLEET_MODEL_DIR=str(tmp_path / "node" / "tiny-sd"),
        SPOTFLEET_MODEL_S3_URI=uri,
        SPOTFLEET_MODEL_NAME="",
        SPOTFLEET_CPU_THREADS="1",
        SPOTFLEET_PORT=str(port),
    )
    del env["SPOTFLEET_MODEL_NAME"]  # the model is named by its directory
    fleet.send(job("tiny-1", width=32, height=32, steps=2, seed=11))
    node = NodeProcess("gpu_node", env, tmp_path / "node.log")
    try:
        wait_for(lambda: "results/tiny-1.json" in fleet.result_keys(), timeout=120, every=0.25)
        png = fleet.clients.s3.get_object(Bucket=fleet.bucket, Key="results/tiny-1.png")["Body"]
        stored = png.read()
        image = Image.open(io.BytesIO(stored))
        assert image.size == (32, 32)
        served = tmp_path / "node" / "tiny-sd"
        assert served.is_symlink()
        assert (served / "unet" / "config.json").read_bytes() == (
            tiny_model / "unet" / "config.json"
        ).read_bytes()
        record = fleet.result_record("tiny-1")
        assert record["model"] == "tiny-sd"
        assert record["node"] == "i-0123456789abcdef0"  # from IMDS
        assert record["pool"] == "us-east-1/us-east-1a/g5.xlarge"  # settings override IMDS

        base = f"http://127.0.0.1:{port}"
        health = httpx.get(f"{base}/health", timeout=5).json()
        assert health["model_loaded"] is True
        assert health["draining"] is False
        assert health["model"] == "tiny-sd"
        # Same seed, same prompt, same size: the direct generation repeats the job's image.
        direct = httpx.post(
            f"{base}/generate",
            json=job("direct-1", width=32, height=32, steps=2, seed=11),
            timeout=60,
        )
        assert direct.status_code == 200
        assert direct.headers["content-type"] == "image/png"
        assert direct.content == stored
        bad = httpx.post(f"{base}/generate", json=job("bad", width=5000), timeout=10)
        assert bad.status_code == 422
        metrics = httpx.get(f"{base}/metrics", timeout=5).text
        assert 'spotfleet_jobs_total{outcome="completed"} 1.0' in metrics
        assert "spotfleet_job_seconds_count 1.0" in metrics

        node.proc.send_signal(signal.SIGTERM)
        assert node.wait(timeout=30) == 0, node.log()
    finally:
        node.stop()
