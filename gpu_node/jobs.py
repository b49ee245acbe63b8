"""The job message: an SQS body of JSON, validated against documented limits.

Anything outside the limits is an ``InvalidJobError`` whose reason goes beside the message in
the dead-letter queue; a node never runs, and never crashes on, a job it cannot honour.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from gpu_node.errors import InvalidJobError

__all__ = ["LIMITS", "Job", "nesting_depth", "parse_job"]

# Documented in docs/gpu_node.md; change both together.
JOB_ID_MAX = 128
PROMPT_MAX = 2000
SIZE_MIN, SIZE_MAX, SIZE_MULTIPLE = 16, 2048, 8  # latents are 1/8 of the image
STEPS_MIN, STEPS_MAX = 1, 150
SEED_MAX = 2**32 - 1
GUIDANCE_MIN, GUIDANCE_MAX = 0.0, 30.0
MODEL_MAX = 200
BODY_MAX_BYTES = 16384
# A job is one flat object; the margin is for nothing but a clear reason. Checked before
# json.loads, whose recursion a 16 KB body of brackets would exhaust (RecursionError).
BODY_MAX_DEPTH = 8

LIMITS: dict[str, int | float] = {
    "job_id_max": JOB_ID_MAX,
    "prompt_max": PROMPT_MAX,
    "size_min": SIZE_MIN,
    "size_max": SIZE_MAX,
    "size_multiple": SIZE_MULTIPLE,
    "steps_min": STEPS_MIN,
    "steps_max": STEPS_MAX,
    "seed_max": SEED_MAX,
    "guidance_min": GUIDANCE_MIN,
    "guidance_max": GUIDANCE_MAX,
    "model_max": MODEL_MAX,
    "body_max_bytes": BODY_MAX_BYTES,
    "body_max_depth": BODY_MAX_DEPTH,
}

Size = Annotated[int, Field(strict=True, ge=SIZE_MIN, le=SIZE_MAX, multiple_of=SIZE_MULTIPLE)]


class Job(BaseModel):
    """One generation request. ``job_id`` names the result: ``results/<job_id>.png``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # Letters, digits, '-', '_', '.': it becomes an S3 key, so no '/' and no '..' tricks.
    job_id: str = Field(
        min_length=1, max_length=JOB_ID_MAX, pattern=r"^[A-Za-z0-9_-][A-Za-z0-9_.-]*$"
    )
    prompt: str = Field(min_length=1, max_length=PROMPT_MAX)
    width: Size
    height: Size
    steps: int = Field(strict=True, ge=STEPS_MIN, le=STEPS_MAX)
    seed: int = Field(strict=True, ge=0, le=SEED_MAX)
    negative_prompt: str | None = Field(default=None, max_length=PROMPT_MAX)
    guidance: float | None = Field(
        default=None, ge=GUIDANCE_MIN, le=GUIDANCE_MAX, allow_inf_nan=False
    )
    model: str | None = Field(default=None, min_length=1, max_length=MODEL_MAX)
    submitted_at: datetime | None = None

    @field_validator("prompt")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value


def nesting_depth(text: str, *, stop_above: int) -> int:
    """How deeply ``text``'s JSON arrays and objects nest, without parsing it.

    Brackets inside strings do not count. The scan stops once the depth passes ``stop_above``,
    so a hostile body costs no more than a harmless one.
    """
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > stop_above:
                    break
        elif char in "]}":
            depth -= 1
    return deepest


def parse_job(body: str) -> Job:
    """The job in ``body``, or ``InvalidJobError`` with a reason a person can act on."""
    if len(body.encode()) > BODY_MAX_BYTES:
        raise InvalidJobError(f"body is larger than {BODY_MAX_BYTES} bytes")
    if (depth := nesting_depth(body, stop_above=BODY_MAX_DEPTH)) > BODY_MAX_DEPTH:
        raise InvalidJobError(
            f"body is nested deeper than {BODY_MAX_DEPTH} levels (at least {depth}); "
            "a job is one flat JSON object"
        )
    try:
        data: Any = json.loads(body)
    except json.JSONDecodeError as exc:
        raise InvalidJobError(f"body is not JSON: {exc.msg} at position {exc.pos}") from exc
    except ValueError as exc:  # e.g. an integer of more than 4300 digits
        raise InvalidJobError(f"body is not JSON a node reads: {exc}") from exc
    if not isinstance(data, dict):
        raise InvalidJobError(f"body is JSON {type(data).__name__}, not an object")
    raw_id = data.get("job_id")
    job_id = raw_id if isinstance(raw_id, str) and raw_id else None
    try:
        return Job.model_validate(data)
    except ValidationError as exc:
        reason = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'body'}: {err['msg']}"
            for err in exc.errors()
        )
        raise InvalidJobError(reason, job_id=job_id) from exc
