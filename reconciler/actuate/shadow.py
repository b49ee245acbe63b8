"""The shadow actuator: decides nothing, changes nothing, says so."""

from __future__ import annotations

from typing import Any

from reconciler.actuate.base import Applied

__all__ = ["ShadowActuator"]


class ShadowActuator:
    name = "shadow"

    def apply(self, fleet: str, placement: dict[str, Any]) -> Applied:
        return Applied(
            changed=False, summary=f"shadow: {fleet} placement recorded, stack untouched"
        )
