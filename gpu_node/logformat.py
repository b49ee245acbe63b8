"""Log lines as text or as JSON (one object per line, by python-json-logger), with the
context they were written in (fleet, pool, decision id, instance id, job id) as fields.

``log_context(fleet=..., job_id=...)`` sets context for the code it wraps (a contextvar: the
thread or task that entered it); ``set_process_context`` sets what holds for the whole
process (a node's instance id and pool). ``ContextFilter`` copies both onto every record
before it is formatted, and before the redacting filter sees it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Literal

from pythonjsonlogger.json import JsonFormatter

__all__ = [
    "CONTEXT_FIELDS",
    "LOG_FORMATS",
    "TEXT_FORMAT",
    "ContextFilter",
    "LogFormat",
    "json_formatter",
    "log_context",
    "set_process_context",
]

LogFormat = Literal["text", "json"]
LOG_FORMATS: tuple[LogFormat, ...] = ("text", "json")
CONTEXT_FIELDS = ("fleet", "pool", "decision_id", "instance_id", "job_id")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

_context: ContextVar[Mapping[str, str] | None] = ContextVar("spotfleet_log_context", default=None)
_process: dict[str, str] = {}


def _known(fields: Mapping[str, str | None]) -> dict[str, str]:
    unknown = set(fields) - set(CONTEXT_FIELDS)
    if unknown:
        raise ValueError(f"not a log context field: {', '.join(sorted(unknown))}")
    return {k: v for k, v in fields.items() if v is not None}


@contextmanager
def log_context(**fields: str | None) -> Iterator[None]:
    """Every line logged inside carries ``fields`` (None values are left out)."""
    token = _context.set({**(_context.get() or {}), **_known(fields)})
    try:
        yield
    finally:
        _context.reset(token)


def set_process_context(**fields: str | None) -> None:
    """Fields every line of this process carries from now on."""
    _process.update(_known(fields))


class ContextFilter(logging.Filter):
    """Adds the context fields in force to a record; a field passed in ``extra`` wins."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in {**_process, **(_context.get() or {})}.items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


def json_formatter() -> logging.Formatter:
    return JsonFormatter(
        "{asctime}{levelname}{name}{message}",
        style="{",
        rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        datefmt="%Y-%m-%dT%H:%M:%S%z",
    )
