"""Errors raised while reading the stack config (a fleet declaration, a placement) or its outputs.

    StackConfigError            anything in the stack config the program refuses
    ├── FleetConfigError        ``spotfleet:fleets`` is malformed (names the fleet and the key)
    ├── PlacementError          ``spotfleet:placements`` is malformed or names a type or subnet
    │                           the fleet did not declare, or holds more than maxNodes
    ├── NamingError             a derived AWS resource name would break AWS's naming rules
    └── UnknownConfigKeyError   a ``spotfleet:`` key the program does not read (a typo)
    OutputsError                the ``fleets`` output is not what this program exports (an
                                older stack: run ``pulumi up``)

All are ``ValueError`` subclasses: a config value was wrong, and the message says what was
allowed. pydantic's ``ValidationError`` is translated where it enters (``stacks.spec``), with
the original kept as ``__cause__``.
"""

from __future__ import annotations

__all__ = [
    "FleetConfigError",
    "NamingError",
    "OutputsError",
    "PlacementError",
    "StackConfigError",
    "UnknownConfigKeyError",
]


class StackConfigError(ValueError):
    """Base of every error raised while reading the stack config."""

    def __init__(self, key: str, problems: list[str]) -> None:
        self.key = key
        self.problems = tuple(problems)
        if len(problems) == 1:
            message = f"{key}: {problems[0]}"
        else:
            message = f"{key} has {len(problems)} problems:\n" + "\n".join(
                f"  - {problem}" for problem in problems
            )
        super().__init__(message)


class FleetConfigError(StackConfigError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("spotfleet:fleets", problems)


class PlacementError(StackConfigError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("spotfleet:placements", problems)


class NamingError(StackConfigError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("spotfleet:namePrefix", problems)


class UnknownConfigKeyError(StackConfigError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("stack config", problems)


class OutputsError(ValueError):
    """The stack's ``fleets`` output is not what this version of the program exports."""
