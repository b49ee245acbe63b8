"""What every stack actuator offers, and what it reports back."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

__all__ = ["Applied", "StackActuator"]


@dataclass(frozen=True, slots=True)
class Applied:
    changed: bool  # False: the actuator only recorded (shadow)
    summary: str


class StackActuator(Protocol):
    name: str

    def apply(self, fleet: str, placement: dict[str, Any]) -> Applied:
        """Make ``placement`` (``spotfleet:placements.<fleet>``, camelCase) the one in force.

        Raises ``ActuationError`` when it could not; the caller records either outcome.
        """
        ...
