"""What is wrong with the daemon's settings, one line per problem, each naming its key.

pydantic's own report is a traceback-shaped block per field; an operator needs the key (and
the environment variable it came from, when it did), what was wrong and, for a misspelt
key, the name they meant. Values are never shown for unknown keys or tokens: a misspelt
``api_token`` still holds a secret.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

from reconciler.core.errors import SettingsError

__all__ = ["ENV_PREFIX", "SettingsError", "describe", "environment_names", "unknown_variables"]

ENV_PREFIX = "SPOTFLEET_DAEMON_"
# Read by `python -m reconciler ctl` (the daemon's address), not by the daemon: an operator's
# shell may set it beside the daemon's own variables.
CLIENT_VARIABLES = ("SPOTFLEET_DAEMON_URL",)


def _submodel(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):  # tuple[FleetTarget, ...], X | None
        found = _submodel(arg)
        if found is not None:
            return found
    return None


def environment_names(model: type[BaseModel]) -> list[str]:
    """Every variable the settings read: a top-level key, or one level of nesting (``__``)."""
    names = []
    for name, field in model.model_fields.items():
        names.append(f"{ENV_PREFIX}{name.upper()}")
        sub = field.annotation
        if isinstance(sub, type) and issubclass(sub, BaseModel):  # nested, not a list of them
            names += [f"{ENV_PREFIX}{name.upper()}__{k.upper()}" for k in sub.model_fields]
    return names


def unknown_variables(environ: Mapping[str, str], model: type[BaseModel]) -> list[str]:
    """``SPOTFLEET_DAEMON_*`` variables no setting reads: a typo would otherwise turn a
    setting off without a word (a misspelt API token leaves the POST endpoints unmounted)."""
    known = environment_names(model)
    problems = []
    for variable in sorted(environ):
        upper = variable.upper()  # pydantic-settings matches names case-insensitively
        if not upper.startswith(ENV_PREFIX) or upper in known or upper in CLIENT_VARIABLES:
            continue
        close = difflib.get_close_matches(upper, known, n=1, cutoff=0.75)
        hint = f"; did you mean {close[0]}?" if close else "; docs/daemon.md lists the settings"
        problems.append(f"{variable}: unknown environment variable{hint}")
    return problems


def describe(exc: ValidationError, model: type[BaseModel], environ: Mapping[str, str]) -> list[str]:
    upper_env = {k.upper() for k in environ}
    out = []
    for error in exc.errors():
        loc = tuple(error["loc"])
        key = _key(loc, error.get("input"))
        variable = f"{ENV_PREFIX}{'__'.join(str(p) for p in loc).upper()}"
        source = f" (from {variable})" if loc and variable in upper_env else ""
        out.append(f"{key or 'settings'}{source}: {_problem(error, model, loc)}")
    return out


def _problem(error: Any, model: type[BaseModel], loc: tuple[int | str, ...]) -> str:
    kind = error["type"]
    if kind == "missing":
        return "missing; it is required"
    if kind == "extra_forbidden":
        allowed = _allowed(model, loc[:-1])
        close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        return f"unknown key{hint}; allowed keys: {', '.join(allowed)}"
    if kind == "value_error":
        cause = (error.get("ctx") or {}).get("error")
        return str(cause) if cause is not None else str(error["msg"])
    if any("token" in str(p) for p in loc):
        return str(error["msg"])
    return f"{error['msg']}, got {_shown(error.get('input'))}"


def _allowed(model: type[BaseModel], loc: tuple[int | str, ...]) -> list[str]:
    """The keys of the model at ``loc`` (``fleets[0]`` is a FleetTarget)."""
    target: type[BaseModel] = model
    for part in loc:
        if isinstance(part, int):
            continue
        field = target.model_fields.get(part)
        sub = _submodel(field.annotation) if field is not None else None
        if sub is None:
            break
        target = sub
    return list(target.model_fields)


def _key(loc: tuple[int | str, ...], value: object) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part.startswith("function-") or part in {"int", "float", "str", "none"}:
            continue  # pydantic names the branch of a union it tried; the key is enough
        else:
            text += f".{part}" if text else part
    # A fleet's own problems name it, as the operator wrote it.
    if len(loc) == 2 and loc[0] == "fleets" and isinstance(value, Mapping):
        name = value.get("name")
        if isinstance(name, str):
            text += f" ({name!r})"
    return text


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
