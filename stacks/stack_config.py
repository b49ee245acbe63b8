"""The stack config keys the program reads, and the refusal of any other ``spotfleet:`` key.

Pulumi hands a program every key of the stack file and never complains about one nothing
reads, so a typo (``spotfleet:placement``, ``spotfleet:namePrefx``) would silently be ignored:
the fleet would run without its placement, or under the default prefix.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from stacks.config_messages import closest
from stacks.errors import UnknownConfigKeyError

__all__ = [
    "FLEETS_KEY",
    "KNOWN_KEYS",
    "NAMESPACE",
    "NAME_PREFIX_KEY",
    "PLACEMENTS_KEY",
    "check_keys",
]

NAMESPACE: Final = "spotfleet"
FLEETS_KEY: Final = "spotfleet:fleets"
PLACEMENTS_KEY: Final = "spotfleet:placements"
NAME_PREFIX_KEY: Final = "spotfleet:namePrefix"
KNOWN_KEYS: Final = (FLEETS_KEY, PLACEMENTS_KEY, NAME_PREFIX_KEY)


def check_keys(keys: Iterable[str]) -> None:
    """Raise :class:`UnknownConfigKeyError` naming every ``spotfleet:`` key in ``keys`` the
    program does not read, each with the closest known key. Other namespaces (``aws:``) are
    their providers' business."""
    prefix = f"{NAMESPACE}:"
    # Compared without the namespace, which every key shares and would make anything "close".
    bare = [key.removeprefix(prefix) for key in KNOWN_KEYS]
    problems = []
    for key in sorted(set(keys)):
        if key.startswith(prefix) and key not in KNOWN_KEYS:
            hint = closest(key.removeprefix(prefix), bare).replace("mean ", f"mean {prefix}")
            problems.append(f"{key}: unknown key{hint}; allowed keys: {', '.join(KNOWN_KEYS)}")
    if problems:
        raise UnknownConfigKeyError(problems)
