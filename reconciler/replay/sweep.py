"""``--sweep NAME=V1,V2,...``: one planner run per value of one ``PlannerSettings`` field."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from reconciler.core.errors import SweepError
from reconciler.decide.planner import PlannerSettings

__all__ = ["Sweep", "SweepError", "parse_sweep"]

SettingValue = float | int | bool


@dataclass(frozen=True)
class Sweep:
    setting: str
    values: tuple[SettingValue, ...]

    def points(self, base: PlannerSettings) -> list[tuple[str, PlannerSettings]]:
        """``(policy name, settings)`` per value, e.g. ``planner[spare_risk=1.5]``."""
        changes: list[dict[str, Any]] = [{self.setting: v} for v in self.values]
        return [
            (f"planner[{self.setting}={_shown(v)}]", dataclasses.replace(base, **change))
            for v, change in zip(self.values, changes, strict=True)
        ]


def _shown(value: SettingValue) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _setting_types() -> dict[str, str]:
    # Annotations are strings here (from __future__ import annotations): "float", "int", "bool".
    return {f.name: str(f.type) for f in dataclasses.fields(PlannerSettings)}


def _parse_value(setting: str, kind: str, text: str) -> SettingValue:
    text = text.strip()
    try:
        if kind == "bool":
            lowered = text.lower()
            if lowered in ("true", "1", "yes", "on"):
                return True
            if lowered in ("false", "0", "no", "off"):
                return False
            raise ValueError(text)
        if kind == "int":
            return int(text)
        return float(text)
    except ValueError:
        raise SweepError(
            f"--sweep {setting}: {text!r} is not {'an' if kind == 'int' else 'a'} {kind}; "
            "give values like "
            f"{setting}={'true,false' if kind == 'bool' else '1,2,3'}"
        ) from None


def parse_sweep(text: str) -> Sweep:
    """``spare_risk=0.5,1,1.5`` -> Sweep("spare_risk", (0.5, 1.0, 1.5))."""
    name, sep, values = text.partition("=")
    name = name.strip()
    kinds = _setting_types()
    if not sep or not values.strip():
        raise SweepError(
            f"--sweep {text!r}: expected NAME=V1,V2,... (e.g. spare_risk=0.5,1,1.5,2,3)"
        )
    if name not in kinds:
        raise SweepError(
            f"--sweep: {name!r} is not a planner setting; choose from {', '.join(kinds)}"
        )
    parsed = tuple(_parse_value(name, kinds[name], v) for v in values.split(",") if v.strip())
    if not parsed:
        raise SweepError(f"--sweep {text!r}: give at least one value after '='")
    return Sweep(name, parsed)
