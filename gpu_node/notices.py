"""One interruption-notice type for every source, with a stable id.

Monitors (IMDS polling, SIGTERM) only produce these; the drain alone acts on them. A notice's
kind is spelled in the one vocabulary the daemon and the history use (``analytics.kinds``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from analytics.kinds import Kind

__all__ = ["InterruptionNotice", "notice_id"]


@dataclass(frozen=True, kw_only=True)
class InterruptionNotice:
    kind: Kind
    id: str
    observed_at: datetime
    deadline: datetime | None  # when the node goes away; None: the drain's default applies
    detail: str
    issued_at: datetime | None = None  # when AWS issued it, where it says (noticeTime)

    @property
    def drains(self) -> bool:
        """A rebalance recommendation is an early warning: reported, not drained."""
        return self.kind is not Kind.REBALANCE_RECOMMENDATION


def notice_id(kind: Kind, payload: str) -> str:
    """Stable across polls: the same notice seen twice is one notice."""
    return hashlib.sha256(f"{kind}\n{payload}".encode()).hexdigest()[:16]
