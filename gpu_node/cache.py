"""The model cache: sync a model directory from S3, verified, resumable, swapped in atomically.

Layout in S3 under the model URI: the model's files, and ``manifest.json`` listing each file's
path, size and SHA-256 (written last by ``publish_model``). Layout on disk, for
``SPOTFLEET_MODEL_DIR=/opt/spotfleet/model``:

    /opt/spotfleet/model                    -> a symlink to the verified version being served
    /opt/spotfleet/.model.versions/<digest>          a complete, verified version
    /opt/spotfleet/.model.versions/<digest>.partial  a download in progress (kept to resume)

A file is downloaded to ``<name>.part`` (resumed with a ranged GET when a previous run was
cut off), checked against the manifest, and only then renamed into place; a size or SHA-256
mismatch deletes it and fetches it again once, then fails. The symlink moves only after every
file is verified, so a corrupt or partial file is never served.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from gpu_node.errors import CorruptModelFileError, ModelCacheError

__all__ = ["MANIFEST_NAME", "ManifestEntry", "publish_model", "read_manifest", "sync_model"]

log = logging.getLogger(__name__)

MANIFEST_NAME = "manifest.json"
_CHUNK = 1024 * 1024
_COMPLETE_MARKER = ".spotfleet-complete"


@dataclass(frozen=True)
class ManifestEntry:
    path: str
    size: int
    sha256: str


def _split_uri(uri: str) -> tuple[str, str]:
    if not uri.startswith("s3://"):
        raise ModelCacheError(f"model URI must be s3://bucket/prefix, not {uri!r}")
    bucket, _, prefix = uri[5:].partition("/")
    if not bucket:
        raise ModelCacheError(f"model URI has no bucket: {uri!r}")
    return bucket, prefix.strip("/")


def _key(prefix: str, path: str) -> str:
    return f"{prefix}/{path}" if prefix else path


def _safe_relative(path: str) -> str:
    pure = PurePosixPath(path)
    if pure.is_absolute() or ".." in pure.parts or not pure.parts:
        raise ModelCacheError(f"manifest path escapes the model directory: {path!r}")
    return str(pure)


def file_digest(path: Path) -> str:
    sha = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            sha.update(chunk)
    return sha.hexdigest()


def read_manifest(raw: bytes) -> list[ManifestEntry]:
    try:
        data: Any = json.loads(raw)
        entries = [
            ManifestEntry(
                path=_safe_relative(str(item["path"])),
                size=int(item["size"]),
                sha256=str(item["sha256"]).lower(),
            )
            for item in data["files"]
        ]
    except (ValueError, KeyError, TypeError) as exc:
        raise ModelCacheError(f"manifest is malformed: {exc}") from exc
    return entries


def publish_model(*, s3: Any, model_dir: Path, uri: str) -> list[ManifestEntry]:
    """Upload a model directory and its manifest (last, so a half-upload is never synced)."""
    bucket, prefix = _split_uri(uri)
    entries = []
    for file in sorted(p for p in model_dir.rglob("*") if p.is_file()):
        relative = file.relative_to(model_dir).as_posix()
        entries.append(ManifestEntry(relative, file.stat().st_size, file_digest(file)))
        try:
            s3.upload_file(str(file), bucket, _key(prefix, relative))
        except (BotoCoreError, ClientError) as exc:
            raise ModelCacheError(f"upload {relative}: {exc}") from exc
    manifest = {"version": 1, "files": [e.__dict__ for e in entries]}
    try:
        s3.put_object(
            Bucket=bucket,
            Key=_key(prefix, MANIFEST_NAME),
            Body=json.dumps(manifest, indent=2, sort_keys=True).encode(),
            ContentType="application/json",
        )
    except (BotoCoreError, ClientError) as exc:
        raise ModelCacheError(f"upload manifest: {exc}") from exc
    return entries


def sync_model(*, s3: Any, uri: str, model_dir: Path, concurrency: int = 8) -> Path:
    """Make ``model_dir`` serve the verified model at ``uri``; returns the version directory."""
    bucket, prefix = _split_uri(uri)
    try:
        raw = s3.get_object(Bucket=bucket, Key=_key(prefix, MANIFEST_NAME))["Body"].read()
    except (BotoCoreError, ClientError) as exc:
        raise ModelCacheError(f"read manifest at {uri}: {exc}") from exc
    entries = read_manifest(raw)
    digest = hashlib.sha256(raw).hexdigest()[:16]

    versions = model_dir.parent / f".{model_dir.name}.versions"
    version = versions / digest
    if (
        model_dir.is_symlink()
        and model_dir.resolve() == version.resolve()
        and (version / _COMPLETE_MARKER).exists()
    ):
        log.info("model %s is current (%s)", uri, digest)
        return version

    if not (version / _COMPLETE_MARKER).exists():
        staging = versions / f"{digest}.partial"
        staging.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="model-sync") as pool:
            # list() re-raises the first failure; the staging directory stays for a resume.
            list(pool.map(lambda e: _fetch(s3, bucket, prefix, e, staging), entries))
        (staging / _COMPLETE_MARKER).write_text(digest)
        if version.exists():
            shutil.rmtree(version)  # an incomplete leftover: never served, safe to drop
        os.replace(staging, version)
        log.info(
            "model %s synced in %.1f s (%d files)", uri, time.monotonic() - started, len(entries)
        )
    _swap(model_dir, version)
    _prune(versions, keep=version)
    return version


def _fetch(s3: Any, bucket: str, prefix: str, entry: ManifestEntry, staging: Path) -> None:
    dest = staging / entry.path
    dest.parent.mkdir(parents=True, exist_ok=True)
    if dest.exists():
        if dest.stat().st_size == entry.size and file_digest(dest) == entry.sha256:
            return  # verified by an earlier, interrupted sync
        dest.unlink()
    part = dest.with_name(dest.name + ".part")
    problem = "not fetched"
    for attempt in range(2):
        _download(s3, bucket, _key(prefix, entry.path), part, entry.size)
        found = _check(part, entry)
        if found is None:
            os.replace(part, dest)
            return
        problem = found
        part.unlink()
        log.warning("%s: %s (attempt %d); fetching again", entry.path, problem, attempt + 1)
    raise CorruptModelFileError(entry.path, problem)


def _download(s3: Any, bucket: str, key: str, part: Path, size: int) -> None:
    offset = part.stat().st_size if part.exists() else 0
    if offset > size:
        part.unlink()
        offset = 0
    if offset == size and size > 0:
        return  # complete already; the check decides whether it is right
    extra = {"Range": f"bytes={offset}-"} if offset else {}
    try:
        body = s3.get_object(Bucket=bucket, Key=key, **extra)["Body"]
        with part.open("ab") as handle:
            for chunk in body.iter_chunks(_CHUNK):
                handle.write(chunk)
    except (BotoCoreError, ClientError) as exc:
        raise ModelCacheError(f"download {key} from byte {offset}: {exc}") from exc


def _check(path: Path, entry: ManifestEntry) -> str | None:
    size = path.stat().st_size if path.exists() else 0
    if size != entry.size:
        return f"size {size} != manifest {entry.size}"
    digest = file_digest(path)
    if digest != entry.sha256:
        return f"sha256 {digest[:12]}... != manifest {entry.sha256[:12]}..."
    return None


def _swap(model_dir: Path, version: Path) -> None:
    """Point ``model_dir`` at ``version`` in one rename: a reader sees the old or the new model."""
    if model_dir.exists() and not model_dir.is_symlink():
        # A plain directory from before the cache managed it: keep it aside, do not delete work.
        aside = model_dir.parent / f".{model_dir.name}.versions" / f"replaced-{int(time.time())}"
        os.replace(model_dir, aside)
    link = model_dir.parent / f".{model_dir.name}.link-{os.getpid()}"
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(version.resolve(), target_is_directory=True)
    os.replace(link, model_dir)


def _prune(versions: Path, *, keep: Path) -> None:
    for old in versions.iterdir():
        kept = old.name.endswith(".partial") or old.name.startswith("replaced-")
        if old.resolve() != keep.resolve() and not kept:
            shutil.rmtree(old, ignore_errors=True)
