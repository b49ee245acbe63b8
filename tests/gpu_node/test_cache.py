"""The model cache against moto's S3: verified, resumable, swapped in atomically."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from gpu_node.cache import MANIFEST_NAME, publish_model, sync_model
from gpu_node.errors import CorruptModelFileError, ModelCacheError
from tests.gpu_node.aws_env import Fleet

FILES = {
    "model_index.json": b'{"_class_name": "StableDiffusionPipeline"}',
    "unet/diffusion_pytorch_model.safetensors": os.urandom(300_000),
    "vae/config.json": b'{"latent_channels": 4}',
    "empty.txt": b"",
}


@pytest.fixture
def published(fleet: Fleet, tmp_path: Path) -> tuple[Fleet, str]:
    source = tmp_path / "source"
    for name, data in FILES.items():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        (source / name).write_bytes(data)
    uri = f"s3://{fleet.bucket}/models/m1"
    publish_model(s3=fleet.clients.s3, model_dir=source, uri=uri)
    return fleet, uri


def _put(fleet: Fleet, key: str, data: bytes) -> None:
    fleet.clients.s3.put_object(Bucket=fleet.bucket, Key=key, Body=data)


def test_a_synced_model_is_served_through_a_symlink_and_a_second_sync_is_a_no_op(
    published: tuple[Fleet, str], tmp_path: Path
) -> None:
    fleet, uri = published
    model_dir = tmp_path / "node" / "model"
    version = sync_model(s3=fleet.clients.s3, uri=uri, model_dir=model_dir, concurrency=4)
    assert model_dir.is_symlink()
    assert model_dir.resolve() == version.resolve()
    for name, data in FILES.items():
        assert (model_dir / name).read_bytes() == data
    weights = model_dir / "unet/diffusion_pytorch_model.safetensors"
    before = weights.stat().st_mtime_ns
    assert sync_model(s3=fleet.clients.s3, uri=uri, model_dir=model_dir) == version
    assert weights.stat().st_mtime_ns == before


def test_a_corrupt_file_in_the_bucket_is_rejected_and_never_served(
    published: tuple[Fleet, str], tmp_path: Path
) -> None:
    fleet, uri = published
    _put(fleet, "models/m1/vae/config.json", b'{"latent_channels": 5}')  # same size, other bytes
    model_dir = tmp_path / "node" / "model"
    with pytest.raises(CorruptModelFileError, match=r"vae/config\.json: sha256"):
        sync_model(s3=fleet.clients.s3, uri=uri, model_dir=model_dir)
    assert not model_dir.exists()


def test_a_new_version_that_fails_verification_leaves_the_old_one_served(
    published: tuple[Fleet, str], tmp_path: Path
) -> None:
    fleet, uri = published
    model_dir = tmp_path / "node" / "model"
    old = sync_model(s3=fleet.clients.s3, uri=uri, model_dir=model_dir)
    manifest = json.loads(
        fleet.clients.s3.get_object(Bucket=fleet.bucket, Key=f"models/m1/{MANIFEST_NAME}")[
            "Body"
        ].read()
    )
    manifest["files"].append({"path": "extra.bin", "size": 10, "sha256": "0" * 64})
    _put(fleet, "models/m1/extra.bin", b"truncated")  # 9 bytes of the 10 promised
    _put(fleet, f"models/m1/{MANIFEST_NAME}", json.dumps(manifest).encode())
    with pytest.raises(CorruptModelFileError, match=r"extra\.bin: size 9 != manifest 10"):
        sync_model(s3=fleet.clients.s3, uri=uri, model_dir=model_dir)
    assert model_dir.resolve() == old.resolve()
    assert not (model_dir / "extra.bin").exists()


def test_an_interrupted_download_resumes_from_where_it_stopped(
    published: tuple[Fleet, str], tmp_path: Path
) -> None:
    fleet, uri = published
    name = "unet/diffusion_pytorch_model.safetensors"
    data = FILES[name]
    half = len(data) // 2
    # The bucket's copy now differs in its first half only. A resumed download (first half
    # from disk, the rest from S3) still matches the manifest; a full re-download would not.
    _put(fleet, f"models/m1/{name}", bytes(half) + data[half:])
    raw = fleet.clients.s3.get_object(Bucket=fleet.bucket, Key=f"models/m1/{MANIFEST_NAME}")["Body"]
    digest = hashlib.sha256(raw.read()).hexdigest()[:16]
    model_dir = tmp_path / "node" / "model"
    part = model_dir.parent / ".model.versions" / f"{digest}.partial" / f"{name}.part"
    part.parent.mkdir(parents=True)
    part.write_bytes(data[:half])

    sync_model(s3=fleet.clients.s3, uri=uri, model_dir=model_dir)
    assert (model_dir / name).read_bytes() == data


def test_a_corrupt_file_left_on_disk_by_an_earlier_sync_is_fetched_again(
    published: tuple[Fleet, str], tmp_path: Path
) -> None:
    fleet, uri = published
    raw = fleet.clients.s3.get_object(Bucket=fleet.bucket, Key=f"models/m1/{MANIFEST_NAME}")["Body"]
    digest = hashlib.sha256(raw.read()).hexdigest()[:16]
    model_dir = tmp_path / "node" / "model"
    staged = model_dir.parent / ".model.versions" / f"{digest}.partial" / "vae/config.json"
    staged.parent.mkdir(parents=True)
    staged.write_bytes(b'{"latent_channels": 9}')  # bit rot in a file marked done

    sync_model(s3=fleet.clients.s3, uri=uri, model_dir=model_dir)
    assert (model_dir / "vae/config.json").read_bytes() == FILES["vae/config.json"]


def test_a_manifest_path_that_escapes_the_model_directory_is_refused(
    fleet: Fleet, tmp_path: Path
) -> None:
    manifest = {"files": [{"path": "../../etc/cron.d/x", "size": 1, "sha256": "0" * 64}]}
    _put(fleet, f"models/evil/{MANIFEST_NAME}", json.dumps(manifest).encode())
    with pytest.raises(ModelCacheError, match="escapes"):
        sync_model(
            s3=fleet.clients.s3, uri=f"s3://{fleet.bucket}/models/evil", model_dir=tmp_path / "m"
        )
