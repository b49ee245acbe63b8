"""Where an export goes: a local folder or an S3 prefix, parsed once from what the user typed.

``Path("s3://bucket/prefix")`` is the local path ``s3:/bucket/prefix``, so a URI must never be
turned into a ``Path``: every entry point (the CLI, the daemon's setting) parses text here.

S3 is reached through pyarrow's S3 filesystem (the AWS C++ SDK), with the endpoint override
the AWS tools honour (``AWS_ENDPOINT_URL_S3``, else ``AWS_ENDPOINT_URL``: moto in the tests and
the embedded default) and the usual credential chain; the export does not use boto3.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from pyarrow import fs

from analytics.errors import AnalyticsError

__all__ = ["ExportTarget", "S3Location", "parse_export_target", "s3_filesystem"]

# S3's rules for new buckets: 3-63 lowercase letters, digits, dots and hyphens.
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


@dataclass(frozen=True, slots=True)
class S3Location:
    """``s3://bucket/prefix``: the prefix has no leading or trailing slash, and may be empty."""

    bucket: str
    prefix: str

    @property
    def uri(self) -> str:
        return f"s3://{self.key()}"

    def key(self, *parts: str) -> str:
        """``bucket/prefix/part/...``: a path as pyarrow's S3 filesystem names it."""
        return "/".join(p for p in (self.bucket, self.prefix, *parts) if p)

    def uri_of(self, *parts: str) -> str:
        return f"s3://{self.key(*parts)}"

    def __str__(self) -> str:
        return self.uri


ExportTarget = Path | S3Location


def parse_export_target(text: str | ExportTarget) -> ExportTarget:
    """A folder, or an ``s3://bucket/prefix`` URI; any other URI is refused, saying why."""
    if isinstance(text, Path | S3Location):
        return text
    if not _SCHEME.match(text):
        return Path(text)
    parsed = urlparse(text)
    if parsed.scheme.lower() != "s3":
        raise AnalyticsError(
            f"{text!r}: an export goes to a folder or to s3://bucket/prefix, not to "
            f"{parsed.scheme}:// (Spark's s3a:// names the same objects as s3://)"
        )
    bucket = parsed.netloc
    if not _BUCKET.match(bucket):
        raise AnalyticsError(
            f"{text!r}: {bucket!r} is not an S3 bucket name (3-63 lowercase letters, digits, "
            "dots and hyphens); expected s3://bucket/prefix"
        )
    if parsed.query or parsed.fragment:
        raise AnalyticsError(f"{text!r}: an S3 export location has no ?query or #fragment")
    prefix = parsed.path.strip("/")
    if "//" in prefix:
        raise AnalyticsError(f"{text!r}: the prefix has an empty folder (//); Athena refuses it")
    return S3Location(bucket=bucket, prefix=prefix)


def s3_filesystem() -> fs.S3FileSystem:
    """pyarrow's S3 filesystem, pointed where the AWS tools would point (the endpoint override
    first); credentials come from the SDK's own chain and never pass through here."""
    endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if endpoint:
        # An emulator (moto) answers on plain HTTP, by path, in any region.
        return fs.S3FileSystem(endpoint_override=endpoint, region=region or "us-east-1")
    return fs.S3FileSystem(region=region) if region else fs.S3FileSystem()
