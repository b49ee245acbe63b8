"""The lease: of two daemons pointed at the same fleet, only the holder acts.

Two kinds behind one protocol (:class:`Lease`): this module's :class:`FileLease`, a local
``flock`` (one host: the embedded default's), and ``dynamo_lease.DynamoLease``, a
conditional write with expiry in a DynamoDB table (daemons on different hosts). Either way
the acting side calls ``fence`` right before each Auto Scaling call, and a lease that is no
longer held raises ``LeaseLostError`` there, so nothing reaches AWS.

The file lease: an exclusive ``flock`` on the lease file, taken without blocking and held
for the life of the process; the kernel drops it when the process dies, however it dies, so
a standby takes over without waiting out a timeout. The file says who holds it, for the
standby's status. Both daemons must see the same file (one host, or a filesystem with working
``flock``); the history itself is single-writer too, so the standby opens it only once it
holds the lease.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
from datetime import datetime
from pathlib import Path
from typing import IO, Protocol

from reconciler.core.errors import LeaseLostError

__all__ = ["FileLease", "Lease"]


class Lease(Protocol):
    @property
    def token(self) -> int | None:
        """The fencing token of this holder's acquisition (None: not held, or a file lease)."""
        ...

    @property
    def poll_s(self) -> float:
        """How often a standby tries to take the lease."""
        ...

    def try_acquire(self, now: datetime) -> bool: ...

    def still_held(self) -> bool:
        """Held as far as this process knows, without a network call (readiness asks often)."""
        ...

    def fence(self) -> None:
        """Raise ``LeaseLostError`` unless the lease is held right now: called before each
        actuation."""
        ...

    def holder(self) -> str | None: ...

    def release(self) -> None: ...


class FileLease:
    def __init__(self, path: Path, *, poll_s: float = 2.0) -> None:
        self.path = path
        self.poll_s = poll_s
        self._file: IO[str] | None = None

    @property
    def token(self) -> int | None:
        return None  # the kernel's lock needs none: a file lock dies with its holder

    @property
    def held(self) -> bool:
        return self._file is not None

    def try_acquire(self, now: datetime) -> bool:
        if self._file is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+")  # noqa: SIM115 - held open for the process' life
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        handle.seek(0)
        handle.truncate()
        holder = {"pid": os.getpid(), "host": socket.gethostname(), "since": now.isoformat()}
        handle.write(json.dumps(holder))
        handle.flush()
        self._file = handle
        return True

    def still_held(self) -> bool:
        """Held, and the file on disk is still the one locked: a lease file deleted or
        replaced under a running daemon would let a second one lock a new file."""
        if self._file is None:
            return False
        try:
            return os.fstat(self._file.fileno()).st_ino == os.stat(self.path).st_ino
        except OSError:
            return False

    def fence(self) -> None:
        if not self.still_held():
            raise LeaseLostError(
                f"lease lost: the lease file {self.path} is no longer the one this daemon "
                "locked (deleted or replaced): nothing applied; restart the daemon"
            )

    def holder(self) -> str | None:
        try:
            text = self.path.read_text().strip()
        except OSError:
            return None
        return text or None

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
            self._file.close()
            self._file = None
