"""The DynamoDB lease: daemons on different hosts, one item in the stack's lease table.

The item (key ``lease_name``) says who holds the lease (``holder``: host, pid and a random
suffix, unique to the process), until when (``expires_at``, epoch seconds on the writer's
clock) and under which ``fencing_token``, a counter raised by one on every acquisition.

* **Take**: a consistent read, then a ``PutItem`` whose condition is *absent, or still
  carrying the token read and either expired or ours*: two standbys racing for an expired
  lease cannot both win, and a leader's renewal in between makes the take fail.
* **Renew**: every ``renew_s``, a ``PutItem`` conditioned on *ours, with our token*. A
  throttled or unreachable DynamoDB is retried with back-off while the lease still has time
  left; a failed condition means another daemon holds it: the lease is lost for good.
* **Act**: this process counts the lease valid until ``expiry_s - renew_s`` after the last
  renewal it sent (a monotonic clock, so a process paused by SIGSTOP sees the time it lost),
  one cadence before any standby may take it. ``fence``, called before each Auto Scaling
  call, checks that and then reads the item back: held by us, with our token, not expired.
  Auto Scaling cannot check a token itself, so the window left is the time between that read
  and the call (milliseconds), covered by the cadence of margin.
* **Release** (a clean stop): the item is marked expired, token kept, so a standby takes
  over at its next poll instead of after the expiry.

Clocks: a standby judges expiry by its own wall clock against the leader's; hosts must
agree within a fraction of ``renew_s`` (Amazon Time Sync, NTP). DynamoDB's TTL
(``purge_at``) removes an item a week after its last renewal, once no daemon uses it.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from reconciler.core.errors import AwsCallError, LeaseLostError
from reconciler.daemon.lease_record import (
    KEY,
    PURGE_AFTER_S,
    PURGE_AT,
    RETRYABLE,
    LeaseRecord,
    backoff_s,
    takeable,
)

__all__ = ["DynamoLease", "holder_id", "lease_client"]

log = logging.getLogger(__name__)

_NAMES = {"#k": KEY, "#h": "holder", "#t": "fencing_token", "#e": "expires_at"}


def lease_client(region: str, *, timeout_s: float) -> Any:
    """A DynamoDB client that gives up quickly and never retries on its own: the lease retries
    within its remaining time, which botocore's retries know nothing of."""
    config = Config(
        retries={"mode": "standard", "total_max_attempts": 1},
        connect_timeout=timeout_s,
        read_timeout=timeout_s,
    )
    return boto3.session.Session().client("dynamodb", region_name=region, config=config)  # type: ignore[call-overload]


def holder_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class DynamoLease:
    def __init__(
        self,
        dynamodb: Any,
        *,
        table: str,
        name: str,
        expiry_s: float,
        renew_s: float,
        me: str | None = None,
        wall: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._db = dynamodb
        self.table, self.name = table, name
        self.expiry_s, self.renew_s = expiry_s, renew_s
        self.me = me or holder_id()
        self._wall, self._monotonic, self._sleep = wall, monotonic, sleep
        self._token: int | None = None
        self._valid_until = 0.0  # monotonic
        self._lost: str | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None

    @property
    def token(self) -> int | None:
        return self._token

    @property
    def poll_s(self) -> float:
        return self.renew_s

    @property
    def lost(self) -> str | None:
        """Why the lease was lost for good (another daemon took it), if it was."""
        return self._lost

    # -- taking and keeping -----------------------------------------------------------------
    def try_acquire(self, now: datetime) -> bool:
        """Take the lease if nobody holds it; ``now`` is ignored: leases run on the hosts'
        wall clocks, not the daemon's (which may replay a market faster than time)."""
        if self.still_held():
            return True
        if self._lost is not None:
            return False  # superseded: a restart makes it a standby again
        try:
            current = self._read()
            if not takeable(current, me=self.me, now=self._wall()):
                return False
            seen = current.token if current is not None else 0
            sent = self._put(
                seen + 1,
                "attribute_not_exists(#k) OR (#t = :seen AND (#e < :now OR #h = :me))",
                {":seen": {"N": str(seen)}, ":me": {"S": self.me}},
                deadline=self._monotonic() + self.renew_s,
            )
        except AwsCallError as exc:
            log.warning(
                "standby: could not take the lease %s in table %s: %s (is lease.table the "
                "stack's daemonLeaseTable, in lease.region, and does the daemon's role have "
                "its daemonPolicy?)",
                self.name,
                self.table,
                exc,
            )
            return False
        if sent is None:
            return False  # another standby, or a late renewal, came first
        with self._lock:
            self._token, self._valid_until = seen + 1, sent + self.expiry_s - self.renew_s
        log.info("lease %s taken by %s with fencing token %d", self.name, self.me, seen + 1)
        self._stop.clear()
        self._renewer = threading.Thread(target=self._keep, name="lease-renewal", daemon=True)
        self._renewer.start()
        return True

    def renew(self) -> bool:
        """Extend the lease; False if it could not be (yet: see ``lost``)."""
        token = self._token
        if token is None or self._lost is not None:
            return False
        now = self._monotonic()
        # Retried while the lease has time left; once past it, for one cadence (nobody took it
        # if our token still stands, and then acting again is safe).
        deadline = max(self._valid_until, now + self.renew_s)
        try:
            sent = self._put(
                token,
                "#h = :me AND #t = :token",
                {":me": {"S": self.me}, ":token": {"N": str(token)}},
                deadline=deadline,
            )
        except AwsCallError as exc:
            log.warning(
                "lease %s: renewal failed: %s; this daemon stops acting %.1f s from now unless "
                "a renewal succeeds",
                self.name,
                exc,
                max(0.0, self._valid_until - self._monotonic()),
            )
            return False
        if sent is None:
            self._lose(f"lease lost: {self._describe_rival(token)}")
            return False
        with self._lock:
            self._valid_until = max(self._valid_until, sent + self.expiry_s - self.renew_s)
        return True

    def _keep(self) -> None:
        while not self._stop.wait(self.renew_s):
            self.renew()
            if self._lost is not None:
                return

    # -- the acting side --------------------------------------------------------------------
    def still_held(self) -> bool:
        with self._lock:
            return (
                self._token is not None
                and self._lost is None
                and self._monotonic() < self._valid_until
            )

    def fence(self) -> None:
        token = self._token
        if token is None:
            raise LeaseLostError(f"lease lost: this daemon does not hold the lease {self.name}")
        if self._lost is not None:
            raise LeaseLostError(self._lost)
        if not self.still_held():
            raise LeaseLostError(
                f"lease lost: no renewal of fencing token {token} succeeded in the last "
                f"{self.expiry_s - self.renew_s:g} s (paused, partitioned or throttled): a "
                "standby may hold the lease now; nothing applied"
            )
        try:
            current = self._read()
        except AwsCallError as exc:
            raise LeaseLostError(
                f"lease lost: fencing token {token} could not be confirmed in the table "
                f"({exc}): nothing applied"
            ) from exc
        if current is None or current.holder != self.me or current.token != token:
            self._lose(f"lease lost: {self._describe(current, token)}")
            raise LeaseLostError(self._lost or "lease lost")
        if current.expires_at <= self._wall() or not self.still_held():
            raise LeaseLostError(
                f"lease lost: fencing token {token} has expired in the table: nothing applied"
            )

    # -- status and shutdown ----------------------------------------------------------------
    def holder(self) -> str | None:
        try:
            current = self._read()
        except AwsCallError as exc:
            return f"unknown (the lease table could not be read: {exc})"
        if current is None:
            return None
        left = current.expires_at - self._wall()
        state = f"expires in {left:.1f} s" if left > 0 else "expired"
        return f"{current.holder} (fencing token {current.token}, {state})"

    def release(self) -> None:
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join(self.renew_s + 5)
            self._renewer = None
        token = self._token
        if token is None or self._lost is not None:
            return
        with self._lock:
            self._token, self._valid_until = None, 0.0
        try:
            self._put(
                token,
                "#h = :me AND #t = :token",
                {":me": {"S": self.me}, ":token": {"N": str(token)}},
                deadline=self._monotonic() + self.renew_s,
                expires_at=0.0,
            )
        except AwsCallError as exc:  # the standby waits out the expiry instead
            log.warning("lease %s: could not release it: %s", self.name, exc)

    # -- DynamoDB ---------------------------------------------------------------------------
    def _lose(self, reason: str) -> None:
        with self._lock:
            first = self._lost is None
            self._lost = self._lost or reason
        if first:
            log.error("%s; this daemon no longer acts: restart it to stand by", reason)

    def _describe_rival(self, token: int) -> str:
        try:
            return self._describe(self._read(), token)
        except AwsCallError:
            return f"fencing token {token} was superseded (the table could not be read back)"

    def _describe(self, current: LeaseRecord | None, token: int) -> str:
        if current is None:
            return f"the lease {self.name} is gone from table {self.table}; token {token} voided"
        return (
            f"the lease {self.name} is held by {current.holder} with fencing token "
            f"{current.token}; this daemon's token {token} is superseded"
        )

    def _read(self) -> LeaseRecord | None:
        try:
            page = self._db.get_item(
                TableName=self.table, Key={KEY: {"S": self.name}}, ConsistentRead=True
            )
        except ClientError as exc:
            error = exc.response.get("Error", {})
            raise AwsCallError(
                "dynamodb:GetItem", f"{error.get('Code')}: {error.get('Message')}"
            ) from exc
        except BotoCoreError as exc:
            raise AwsCallError("dynamodb:GetItem", str(exc)) from exc
        item = page.get("Item")
        return LeaseRecord.from_item(item) if item else None

    def _put(
        self,
        token: int,
        condition: str,
        values: dict[str, Any],
        *,
        deadline: float,
        expires_at: float | None = None,
    ) -> float | None:
        """Write the item as ours with ``token``; the monotonic time the successful attempt was
        sent, or None when ``condition`` failed. Throttling and transport errors are retried
        with back-off until ``deadline`` (monotonic); then, or on another error,
        ``AwsCallError``."""
        attempt = 0
        while True:
            sent, wall = self._monotonic(), self._wall()
            until = wall + self.expiry_s if expires_at is None else expires_at
            item = {
                KEY: {"S": self.name},
                "holder": {"S": self.me},
                "fencing_token": {"N": str(token)},
                "expires_at": {"N": f"{until:.3f}"},
                PURGE_AT: {"N": str(int(max(until, wall) + PURGE_AFTER_S))},
            }
            names = {k: v for k, v in _NAMES.items() if k in condition}
            try:
                self._db.put_item(
                    TableName=self.table,
                    Item=item,
                    ConditionExpression=condition,
                    ExpressionAttributeNames=names,
                    ExpressionAttributeValues={
                        **{k: v for k, v in values.items() if k in condition},
                        **({":now": {"N": f"{wall:.3f}"}} if ":now" in condition else {}),
                    },
                )
                return sent
            except ClientError as exc:
                error = exc.response.get("Error", {})
                code = str(error.get("Code"))
                if code == "ConditionalCheckFailedException":
                    return None
                problem = f"{code}: {error.get('Message')}"
                if code not in RETRYABLE:
                    raise AwsCallError("dynamodb:PutItem", problem) from exc
                cause: Exception = exc
            except BotoCoreError as exc:
                problem, cause = str(exc), exc
            delay = backoff_s(attempt)
            attempt += 1
            if self._monotonic() + delay >= deadline:
                raise AwsCallError(
                    "dynamodb:PutItem",
                    f"{problem} (tried {attempt} times, until the lease's time ran out)",
                ) from cause
            log.info("lease %s: %s; retrying in %.2f s", self.name, problem, delay)
            self._sleep(delay)
