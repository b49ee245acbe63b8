"""The Pulumi actuator: the Automation API on the project's own program.

Select the stack, validate the new placement against the fleets the stack declares
(``stacks.spec``), set only ``spotfleet:placements``, run ``up``, log its output. A
concurrent update (``ConcurrentUpdateError``: someone else's ``up`` holds the stack) is
waited out with a doubling back-off and retried; the daemon never ``cancel``s another
update, since that could leave the group half-changed. Everything else ``up`` raises
becomes an ``ActuationError`` with the cause kept.

The Automation API drives the Pulumi CLI, which must be on the daemon's PATH.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from pulumi import automation as auto

from reconciler.actuate.base import Applied
from reconciler.core.errors import ActuationError, StackBusyError
from stacks.errors import StackConfigError
from stacks.spec import parse_fleets, parse_placement, parse_placements, placements_to_config_value

__all__ = ["PLACEMENTS_KEY", "PulumiActuator", "StackLike", "select_stack"]

log = logging.getLogger(__name__)

PLACEMENTS_KEY = "spotfleet:placements"
FLEETS_KEY = "spotfleet:fleets"


class StackLike(Protocol):
    """The part of ``pulumi.automation.Stack`` the driver uses."""

    def get_all_config(self) -> Mapping[str, auto.ConfigValue]: ...

    def set_config(self, key: str, value: auto.ConfigValue, *, path: bool = False) -> None: ...

    def up(self, *, on_output: Callable[[str], Any] | None = None) -> auto.UpResult: ...


def select_stack(stack: str, work_dir: str) -> Callable[[], StackLike]:
    def select() -> StackLike:
        return auto.select_stack(stack_name=stack, work_dir=work_dir)

    return select


class PulumiActuator:
    name = "pulumi"

    def __init__(
        self,
        *,
        select: Callable[[], StackLike],
        retries: int = 5,
        backoff_s: float = 10.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._select = select
        self._retries = retries
        self._backoff_s = backoff_s
        self._sleep = sleep

    def apply(self, fleet: str, placement: dict[str, Any]) -> Applied:
        try:
            stack = self._select()
            config = stack.get_all_config()
        except (auto.CommandError, OSError) as exc:
            raise ActuationError(f"cannot select the stack: {exc}") from exc
        value = self._placements_value(config, fleet, placement)
        try:
            stack.set_config(PLACEMENTS_KEY, auto.ConfigValue(value=value))
        except auto.CommandError as exc:
            raise ActuationError(f"cannot set {PLACEMENTS_KEY}: {exc}") from exc
        return self._up(stack, fleet)

    @staticmethod
    def _placements_value(
        config: Mapping[str, auto.ConfigValue], fleet: str, placement: dict[str, Any]
    ) -> str:
        try:
            fleets = parse_fleets(json.loads(config[FLEETS_KEY].value))
            current = config.get(PLACEMENTS_KEY)
            placements = parse_placements(
                json.loads(current.value) if current is not None else None, fleets
            )
            spec = next((f for f in fleets if f.name == fleet), None)
            if spec is None:
                raise ActuationError(f"the stack declares no fleet {fleet!r}")
            placements[fleet] = parse_placement(spec, placement)
        except KeyError as exc:
            raise ActuationError(f"the stack has no {FLEETS_KEY}") from exc
        except (StackConfigError, json.JSONDecodeError) as exc:
            raise ActuationError(f"placement for {fleet!r} refused: {exc}") from exc
        return placements_to_config_value(placements)

    def _up(self, stack: StackLike, fleet: str) -> Applied:
        delay = self._backoff_s
        for attempt in range(self._retries + 1):
            try:
                result = stack.up(on_output=lambda line: log.info("pulumi up: %s", line.rstrip()))
            except auto.ConcurrentUpdateError as exc:
                if attempt == self._retries:
                    raise StackBusyError(
                        f"stack still locked by another update after {attempt + 1} attempts"
                    ) from exc
                log.warning("stack busy (%s); retrying in %.0f s", exc, delay)
                self._sleep(delay)
                delay *= 2
                continue
            except auto.CommandError as exc:
                raise ActuationError(f"pulumi up failed for {fleet!r}: {exc}") from exc
            changes = result.summary.resource_changes or {}
            counts = ", ".join(
                f"{getattr(op, 'value', op)}={n}" for op, n in sorted(changes.items())
            )
            return Applied(changed=True, summary=f"up {result.summary.result}: {counts or 'none'}")
        raise AssertionError("unreachable")  # pragma: no cover
