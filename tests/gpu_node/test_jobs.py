"""The job schema and its documented limits."""

from __future__ import annotations

import json
from typing import Any

import pytest

from gpu_node.errors import InvalidJobError
from gpu_node.jobs import LIMITS, parse_job

VALID: dict[str, Any] = {
    "job_id": "job-1",
    "prompt": "a lighthouse at dusk",
    "width": 512,
    "height": 768,
    "steps": 30,
    "seed": 42,
}


def _with(**changes: Any) -> str:
    body = {**VALID, **changes}
    return json.dumps({k: v for k, v in body.items() if v is not ...})


def test_a_valid_job_parses_with_its_optional_fields() -> None:
    job = parse_job(
        _with(
            negative_prompt="blurry",
            guidance=7.5,
            model="sd15",
            submitted_at="2026-11-22T11:00:00Z",
        )
    )
    assert job.job_id == "job-1"
    assert (job.width, job.height, job.steps, job.seed) == (512, 768, 30, 42)
    assert job.guidance == 7.5
    assert job.submitted_at is not None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (_with(job_id=...), "job_id"),
        (_with(job_id="../../etc/passwd"), "job_id"),
        (_with(job_id="a/b"), "job_id"),
        (_with(job_id="x" * 129), "job_id"),
        (_with(prompt=""), "prompt"),
        (_with(prompt="   "), "prompt"),
        (_with(prompt="p" * 2001), "prompt"),
        (_with(width=2056), "width"),
        (_with(width=8), "width"),
        (_with(height=100), "height"),  # not a multiple of 8
        (_with(width="512"), "width"),  # no silent coercion
        (_with(width=512.0), "width"),
        (_with(width=True), "width"),
        (_with(steps=0), "steps"),
        (_with(steps=151), "steps"),
        (_with(seed=-1), "seed"),
        (_with(seed=2**32), "seed"),
        (_with(guidance=31), "guidance"),
        (_with(negative_prompt="n" * 2001), "negative_prompt"),
        (_with(colour="red"), "colour"),  # unknown fields are refused, not ignored
    ],
)
def test_a_job_outside_the_limits_is_refused_naming_the_field(body: str, field: str) -> None:
    with pytest.raises(InvalidJobError) as caught:
        parse_job(body)
    assert field in caught.value.reason


def test_the_job_id_is_kept_for_the_dead_letter_record_when_known() -> None:
    with pytest.raises(InvalidJobError) as caught:
        parse_job(_with(steps=0))
    assert caught.value.job_id == "job-1"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("{not json", "not JSON"),
        ("[1, 2]", "not an object"),
        ("null", "not an object"),
        (json.dumps({**VALID, "prompt": "x" * 20000}), "larger than"),
    ],
)
def test_a_body_that_is_not_a_job_object_is_refused(body: str, reason: str) -> None:
    with pytest.raises(InvalidJobError, match=reason):
        parse_job(body)


@pytest.mark.parametrize(
    "body",
    [
        "[" * 8000 + "]" * 8000,  # 16 KB: json.loads alone would raise RecursionError
        '{"a":' * 2500 + "1" + "}" * 2500,
        json.dumps({**VALID, "extra": [[[[[[[[[1]]]]]]]]]}),
    ],
)
def test_a_body_nested_too_deeply_is_refused_before_it_is_parsed(body: str) -> None:
    with pytest.raises(InvalidJobError, match="nested deeper than 8 levels"):
        parse_job(body)


def test_brackets_inside_strings_are_not_nesting() -> None:
    job = parse_job(_with(prompt='[[[[[[[[[[{{{{{{{{{{ "quoted \\" [[[[[[[[[['))
    assert job.prompt.startswith("[[[[")


def test_an_integer_too_long_for_python_is_refused_with_its_reason() -> None:
    with pytest.raises(InvalidJobError, match="4300 digits"):
        parse_job('{"job_id": "big", "seed": ' + "1" * 5000 + "}")


def test_the_documented_limits_are_the_enforced_ones() -> None:
    docs = (__import__("pathlib").Path(__file__).parents[2] / "docs" / "gpu_node.md").read_text()
    for name, value in LIMITS.items():
        assert f"`{name}` = {value}" in docs.replace(",", ""), name
