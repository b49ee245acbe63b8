"""One interruption-notice type for every source, with a stable id.

Monitors (IMDS polling, SIGTERM) only produce these; the drain alone acts on them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

__all__ = ["InterruptionNotice", "NoticeKind", "notice_id"]


class NoticeKind(StrEnum):
    SPOT_INTERRUPTION = "spot-interruption"
    REBALANCE_RECOMMENDATION = "rebalance-recommendation"
    ASG_TERMINATION = "asg-termination"
    SCHEDULED_MAINTENANCE = "scheduled-maintenance"  # an EC2 scheduled reboot, stop, retirement
    SIGTERM = "sigterm"


@dataclass(frozen=True, kw_only=True)
class InterruptionNotice:
    kind: NoticeKind
    id: str
    observed_at: datetime
    deadline: datetime | None  # when the node goes away; None: the drain's default applies
    detail: str
    issued_at: datetime | None = None  # when AWS issued it, where it says (noticeTime)

    @property
    def drains(self) -> bool:
        """A rebalance recommendation is an early warning: reported, not drained."""
        return self.kind is not NoticeKind.REBALANCE_RECOMMENDATION


def notice_id(kind: NoticeKind, payload: str) -> str:
    """Stable across polls: the same notice seen twice is one notice."""
    return hashlib.sha256(f"{kind}\n{payload}".encode()).hexdigest()[:16]
