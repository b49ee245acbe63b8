"""One AWS call of a collector, tried again with a growing pause while AWS throttles or refuses it.

Issue 13's "Bad input" for the signals the daemon asks AWS for: every failed try is noted in
``fleet_actions`` (kind ``signal_failed``, the operation as target, the code and message and
"try N of M" as detail). A failure is worth another try when its code is one of the
operation's ``retried_codes`` (throttled, refused: a policy being fixed) or when no answer came
at all (``BotoCoreError``: the endpoint unreachable, the network); the pause doubles from
``first_delay_s``. Any other error, or the last try, gives up: ``AwsCallError`` with the
operation's own words on what holds meanwhile and what to do, the cause kept.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from reconciler.core.errors import AwsCallError
from reconciler.core.history.ledger import Ledger

__all__ = ["FailedTry", "RetriedOperation", "call_with_retries"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class FailedTry:
    """One try that AWS did not answer with what was asked."""

    code: str  # AWS's error code, or the botocore error's class name when nothing answered
    message: str
    attempt: int  # 1-based
    tries: int
    retried: bool  # worth another try, whether or not one is left

    @property
    def last(self) -> bool:
        return self.attempt == self.tries or not self.retried

    @property
    def exhausted(self) -> bool:
        """Every try was spent on failures worth another one."""
        return self.retried and self.attempt == self.tries


@dataclass(frozen=True, slots=True)
class RetriedOperation:
    """What a collector tells the retry loop about its AWS operation."""

    name: str  # "ec2:GetSpotPlacementScores"
    retried_codes: frozenset[str]
    meanwhile: str  # the last note's words on what holds once it gives up
    explain: Callable[[FailedTry], str]  # the AwsCallError's message on giving up


def _failed_try(
    exc: ClientError | BotoCoreError, op: RetriedOperation, attempt: int, tries: int
) -> FailedTry:
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code"))
        return FailedTry(code, str(error.get("Message")), attempt, tries, code in op.retried_codes)
    return FailedTry(type(exc).__name__, str(exc), attempt, tries, True)


def call_with_retries(
    op: RetriedOperation,
    call: Callable[[], T],
    *,
    ledger: Ledger,
    fleet: str,
    now: datetime,
    tries: int,
    first_delay_s: float,
    sleep: Callable[[float], None],
) -> T:
    """``call()``'s answer, tried up to ``tries`` times; raises ``AwsCallError`` on giving up."""
    if tries < 1:
        raise ValueError(f"{op.name}: tries must be at least 1, got {tries}")
    for attempt in range(1, tries + 1):
        try:
            return call()
        except (ClientError, BotoCoreError) as exc:
            failed = _failed_try(exc, op, attempt, tries)
            ledger.note(
                "signal_failed",
                fleet=fleet,
                now=now,
                status="failed",
                target=op.name,
                detail=f"{failed.code}: {failed.message} (try {attempt} of {tries}; "
                + (f"{op.meanwhile})" if failed.last else "trying again)"),
            )
            if failed.last:
                raise AwsCallError(op.name, op.explain(failed)) from exc
            sleep(first_delay_s * 2 ** (attempt - 1))
    raise AssertionError("unreachable: every try returns or raises")
