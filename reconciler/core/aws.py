"""boto3 clients and the one place their errors become ``AwsCallError``.

Clients honour ``AWS_ENDPOINT_URL`` (boto3 reads it itself), which is how tests and the
embedded default point them at a local emulation. Throttling is retried by botocore's
standard mode; what still fails surfaces as ``AwsCallError`` with the cause kept.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from reconciler.core.errors import AwsCallError

__all__ = ["Clients", "aws_call", "client"]

_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 4}, connect_timeout=5, read_timeout=20
)


def client(service: str, region: str) -> Any:
    return boto3.session.Session().client(service, region_name=region, config=_CONFIG)  # type: ignore[call-overload]


@contextmanager
def aws_call(operation: str) -> Iterator[None]:
    try:
        yield
    except ClientError as exc:
        error = exc.response.get("Error", {})
        raise AwsCallError(operation, f"{error.get('Code')}: {error.get('Message')}") from exc
    except BotoCoreError as exc:
        raise AwsCallError(operation, str(exc)) from exc


class Clients:
    """boto3 clients per (service, region), made on first use."""

    def __init__(self, make: Callable[[str, str], Any] = client) -> None:
        self._make = make
        self._cache: dict[tuple[str, str], Any] = {}

    def __call__(self, service: str, region: str) -> Any:
        key = (service, region)
        if key not in self._cache:
            self._cache[key] = self._make(service, region)
        return self._cache[key]
