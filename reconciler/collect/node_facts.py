"""How a node ended, for the history's ``nodes.termination_reason`` (what it cost an hour,
its launch price, is set by ``reconciler.core.history.node_writes``).

``termination_reason`` is EC2's own (``StateReason``, e.g. "Server.SpotInstanceTermination:
Spot instance termination") where EC2 still describes the instance, else the last interruption
event recorded about it, else "left the group".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["LEFT_THE_GROUP", "termination_reason"]

LEFT_THE_GROUP = "left the group"


def termination_reason(
    instance: Mapping[str, Any] | None, last_event: tuple[str, str | None] | None
) -> str:
    """Why a node that left the group ended (pure): EC2's reason, the event, or neither."""
    if instance is not None:
        reason = instance.get("StateReason")
        message = reason.get("Message") if isinstance(reason, Mapping) else None
        if isinstance(message, str) and message:
            return message
    if last_event is not None:
        kind, detail = last_event
        what = kind.replace("_", " ")
        return f"{what} ({detail})" if detail else what
    return LEFT_THE_GROUP
