"""Logging that never carries a credential, at any level.

Two guards. botocore, boto3, s3transfer and urllib3 are kept at INFO or above whatever the
level asked for: at DEBUG botocore writes every request's headers and canonical request, the
session token and the access key id among them. And a filter on every handler of the root
logger rewrites each record before it is written: AWS access key ids (``AKIA``/``ASIA``...),
values named as secret keys, session or security tokens, ``Authorization`` headers and
``Bearer`` tokens (the daemon's API token), in the message, its arguments and its traceback,
and the values of the credential variables in the environment wherever they appear.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from collections.abc import Iterable

from gpu_node.logformat import LOG_FORMATS, TEXT_FORMAT, ContextFilter, json_formatter

__all__ = ["REDACTED", "RedactingFilter", "configure_logging", "install_redaction", "redact"]

REDACTED = "[redacted]"

# Loggers whose DEBUG output is made of credentials; INFO and above say nothing secret.
QUIET_LOGGERS = ("botocore", "boto3", "s3transfer", "urllib3")

# Environment variables that hold secrets; their values are redacted wherever they appear.
SECRET_VARIABLES = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "SPOTFLEET_DAEMON_API_TOKEN",
)
# Shorter values ("x", "testing") are placeholders, and redacting them would garble the log.
_MIN_SECRET_LENGTH = 8

_PATTERNS = (
    # Access key ids of users, roles and temporary credentials: AKIA..., ASIA..., AROA...
    re.compile(r"\b(?:AKIA|ASIA|AROA|AIDA|AGPA|AIPA|ANPA|ANVA|APKA|ABIA|ACCA)[A-Z0-9]{16}\b"),
    # A named secret: key: value, key=value, 'key': b'value', x-amz-security-token:value ...
    re.compile(
        r"(?i)((?:aws_?)?(?:secret_?access_?key|session_?token|security_?token|secret_?key"
        r"|x-amz-security-token|x-aws-ec2-metadata-token|api_?token)['\"]?\s*[:=]\s*b?['\"]?)"
        r"([^'\"\s,;&}]+)"
    ),
    # The Authorization header's value, whatever its scheme (SigV4, Bearer, Basic).
    re.compile(r"(?i)(authorization['\"]?\s*[:=]\s*b?['\"]?)([^'\"\r\n]+)"),
    re.compile(r"(?i)(\bbearer\s+)([A-Za-z0-9._~+/=-]+)"),
)


def redact(text: str, *, secrets: Iterable[str] = ()) -> str:
    """``text`` with every credential-shaped part, and every one of ``secrets``, replaced."""
    for secret in secrets:
        if len(secret) >= _MIN_SECRET_LENGTH:
            text = text.replace(secret, REDACTED)
    for pattern in _PATTERNS:
        if pattern.groups:
            text = pattern.sub(lambda m: m.group(1) + REDACTED, text)
        else:
            text = pattern.sub(REDACTED, text)
    return text


# A LogRecord's own attributes; any other is an ``extra`` field (a JSON line writes them all).
_RECORD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
}


class RedactingFilter(logging.Filter):
    """Rewrites a record in place before any formatter sees it; never drops one."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._secrets = tuple(s for s in secrets if len(s) >= _MIN_SECRET_LENGTH)

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage(), secrets=self._secrets)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, secrets=self._secrets)
            # A JSON formatter formats exc_info afresh, unredacted: leave only the text.
            record.exc_info = None
        if record.stack_info:
            record.stack_info = redact(record.stack_info, secrets=self._secrets)
        for key, value in list(vars(record).items()):
            if key not in _RECORD_ATTRIBUTES and isinstance(value, str):
                setattr(record, key, redact(value, secrets=self._secrets))
        return True


def environment_secrets() -> list[str]:
    return [value for name in SECRET_VARIABLES if (value := os.environ.get(name))]


def install_redaction(secrets: Iterable[str] = ()) -> None:
    """Guard the root logger's handlers (set up already) and quiet the credential loggers."""
    redacting = RedactingFilter([*environment_secrets(), *secrets])
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(redacting)
    for name in QUIET_LOGGERS:
        logger = logging.getLogger(name)
        if logger.getEffectiveLevel() < logging.INFO:
            logger.setLevel(logging.INFO)


class _ProcessHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The handler ``configure_logging`` installs; the next call replaces it."""


def configure_logging(level: str | None = None, log_format: str | None = None) -> None:
    """A process's logging to stderr, credentials never: ``level`` (else
    ``SPOTFLEET_LOG_LEVEL``, default INFO), as ``text`` or ``json`` lines (``log_format``, else
    ``SPOTFLEET_LOG_FORMAT``, default text). A second call replaces the first's handler; a root
    logger someone else set up (a test runner, an embedding process) is left as it is, as
    ``logging.basicConfig`` leaves it, and only guarded."""
    chosen = (log_format or os.environ.get("SPOTFLEET_LOG_FORMAT") or "text").lower()
    if chosen not in LOG_FORMATS:
        raise ValueError(
            f"SPOTFLEET_LOG_FORMAT: {chosen!r} is not a log format; use one of "
            + ", ".join(LOG_FORMATS)
        )
    root = logging.getLogger()
    if not any(not isinstance(h, _ProcessHandler) for h in root.handlers):
        for previous in root.handlers[:]:
            root.removeHandler(previous)
        handler = _ProcessHandler(sys.stderr)
        formatter = json_formatter() if chosen == "json" else logging.Formatter(TEXT_FORMAT)
        handler.setFormatter(formatter)
        handler.addFilter(ContextFilter())  # before the redacting filter: its fields are redacted
        root.addHandler(handler)
        root.setLevel((level or os.environ.get("SPOTFLEET_LOG_LEVEL", "INFO")).upper())
    # httpx logs every request at INFO: the metadata watcher alone would write four lines a
    # second. Its warnings and errors still come through.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    install_redaction()
