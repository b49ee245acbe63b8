"""pydantic's validation errors in the words of the stack config: the key, what was wrong,
what is allowed (and, for an unknown key, the closest known one)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping

from pydantic import BaseModel
from pydantic_core import ErrorDetails

__all__ = ["closest", "describe", "shown"]


def describe(
    error: ErrorDetails,
    model: type[BaseModel],
    nested: Mapping[str, type[BaseModel]] | None = None,
) -> str:
    """One pydantic error as 'key: what was wrong; what is allowed'.

    ``nested`` names the model of a list field's items (``{"pools": PoolCount}``), so an unknown
    key inside ``pools[i]`` is matched against the item's keys, not the outer model's.
    """
    key = _key(error["loc"])
    kind = error["type"]
    if kind == "missing":
        return f"{key}: missing; it is required"
    if kind == "extra_forbidden":
        allowed = _allowed_keys(model, error["loc"], nested or {})
        hint = closest(str(error["loc"][-1]), allowed)
        return f"{key}: unknown key{hint}; allowed keys: {', '.join(allowed)}"
    if kind == "too_short":
        at_least = (error.get("ctx") or {}).get("min_length", 1)
        return f"{key}: must list at least {at_least}, got {shown(error['input'])}"
    if kind in {"tuple_type", "list_type"}:
        return f"{key}: expected a list, got {shown(error['input'])}"
    if kind == "value_error":
        cause = (error.get("ctx") or {}).get("error")
        message = str(cause) if cause is not None else error["msg"]
        return f"{key}: {message}" if key else message
    message = f"{error['msg']}, got {shown(error['input'])}"
    return f"{key}: {message}" if key else message


def closest(name: str, known: Iterable[str]) -> str:
    """`` (did you mean X?)`` for the known name closest to ``name``; empty when none is close."""
    close = difflib.get_close_matches(name, list(known), n=1)
    return f" (did you mean {close[0]}?)" if close else ""


def shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _key(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part.startswith("function-after") or part in {"int", "float", "str", "none"}:
            continue  # pydantic names the branch of a union it tried; the key is enough
        else:
            text += f".{part}" if text else part
    return text


def _allowed_keys(
    model: type[BaseModel],
    loc: tuple[int | str, ...],
    nested: Mapping[str, type[BaseModel]],
) -> list[str]:
    target = model
    if len(loc) > 1:
        target = nested.get(str(loc[0]), model)
    return [field.alias or name for name, field in target.model_fields.items()]
