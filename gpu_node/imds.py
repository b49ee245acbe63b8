"""A small IMDSv2 client: a session token first, then plain GETs under ``/latest/``.

It takes a base URL so that tests run it against a real local HTTP server.
"""

from __future__ import annotations

import threading
import time

import httpx

from gpu_node.errors import MetadataError

__all__ = ["ImdsClient"]

_TOKEN_TTL_SECONDS = 21600
# Refresh well before expiry so a token never dies between fetching and using it.
_TOKEN_REFRESH_SECONDS = 300


class ImdsClient:
    def __init__(self, *, base_url: str, timeout: float = 1.0) -> None:
        self._base = base_url.rstrip("/")
        self._http = httpx.Client(timeout=timeout)
        self._lock = threading.Lock()
        self._token: str | None = None
        self._token_expires = 0.0

    def close(self) -> None:
        self._http.close()

    def get(self, path: str) -> str | None:
        """The text at ``/latest/<path>``, or None when the service says 404 (nothing there)."""
        for attempt in range(2):
            token = self._session_token(refresh=attempt > 0)
            try:
                response = self._http.get(
                    f"{self._base}/latest/{path}",
                    headers={"X-aws-ec2-metadata-token": token},
                )
            except httpx.HTTPError as exc:
                raise MetadataError(f"IMDS GET {path}: {exc}") from exc
            if response.status_code == 401:  # token expired or the service restarted
                continue
            if response.status_code == 404:
                return None
            if response.status_code != 200:
                raise MetadataError(f"IMDS GET {path}: HTTP {response.status_code}")
            return response.text
        raise MetadataError(f"IMDS GET {path}: token refused twice")

    def _session_token(self, *, refresh: bool) -> str:
        with self._lock:
            if not refresh and self._token and time.monotonic() < self._token_expires:
                return self._token
            try:
                response = self._http.put(
                    f"{self._base}/latest/api/token",
                    headers={"X-aws-ec2-metadata-token-ttl-seconds": str(_TOKEN_TTL_SECONDS)},
                )
            except httpx.HTTPError as exc:
                raise MetadataError(f"IMDS token: {exc}") from exc
            if response.status_code != 200:
                raise MetadataError(f"IMDS token: HTTP {response.status_code}")
            self._token = response.text
            self._token_expires = time.monotonic() + _TOKEN_TTL_SECONDS - _TOKEN_REFRESH_SECONDS
            return self._token
