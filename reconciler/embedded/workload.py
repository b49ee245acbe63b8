"""The demo's work: a steady stream of generation jobs, a few malformed ones among them.

Every planned job carries what should become of it (a result, or the dead-letter queue with a
reason), so the end of the run can check that nothing was lost.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["MALFORMED", "PlannedJob", "jobs_due", "plan_jobs", "send_jobs"]

_PROMPTS = (
    "a lighthouse on a cliff at dusk, oil painting",
    "a red fox in fresh snow, macro photograph",
    "isometric city block at night, neon signs",
    "a bowl of ramen, studio lighting",
    "an old sailing ship in a storm",
)

# What a malformed job looks like, one kind each: (defect, body maker).
MALFORMED: tuple[tuple[str, Any], ...] = (
    ("not JSON", lambda job_id: f"{{job_id: {job_id}"),
    (
        "no prompt",
        lambda job_id: json.dumps(
            {"job_id": job_id, "width": 32, "height": 32, "steps": 2, "seed": 1}
        ),
    ),
    (
        "width too large",
        lambda job_id: json.dumps(
            {"job_id": job_id, "prompt": "x", "width": 4096, "height": 32, "steps": 2, "seed": 1}
        ),
    ),
    (
        "steps out of range",
        lambda job_id: json.dumps(
            {"job_id": job_id, "prompt": "x", "width": 32, "height": 32, "steps": 0, "seed": 1}
        ),
    ),
    (
        "unknown field",
        lambda job_id: json.dumps(
            {
                "job_id": job_id,
                "prompt": "x",
                "width": 32,
                "height": 32,
                "steps": 2,
                "seed": 1,
                "gpu": "all",
            }
        ),
    ),
)


@dataclass(frozen=True, slots=True)
class PlannedJob:
    job_id: str
    body: str
    defect: str | None  # None: a valid job, which must end with exactly one result

    @property
    def valid(self) -> bool:
        return self.defect is None


def plan_jobs(
    count: int,
    *,
    malformed_every: int = 12,
    size: int = 32,
    steps: int = 2,
    first: int = 0,
) -> list[PlannedJob]:
    """Jobs ``first .. first+count-1``; every ``malformed_every``-th is malformed (0: none)."""
    planned = []
    for n in range(first, first + count):
        job_id = f"job-{n:06d}"
        if malformed_every and n % malformed_every == malformed_every - 1:
            defect, make = MALFORMED[(n // malformed_every) % len(MALFORMED)]
            planned.append(PlannedJob(job_id, make(job_id), defect))
            continue
        body = {
            "job_id": job_id,
            "prompt": _PROMPTS[n % len(_PROMPTS)],
            "width": size,
            "height": size,
            "steps": steps,
            "seed": n,
        }
        planned.append(PlannedJob(job_id, json.dumps(body), None))
    return planned


def jobs_due(elapsed_s: float, rate_per_minute: float) -> int:
    """How many jobs a steady stream has submitted after ``elapsed_s`` (the first at once)."""
    if rate_per_minute <= 0 or elapsed_s < 0:
        return 0
    return math.floor(elapsed_s * rate_per_minute / 60.0) + 1


def send_jobs(sqs: Any, queue_url: str, jobs: Sequence[PlannedJob]) -> None:
    """Send in batches of ten (SQS's most); a failed entry raises, naming the job."""
    for start in range(0, len(jobs), 10):
        batch = jobs[start : start + 10]
        response = sqs.send_message_batch(
            QueueUrl=queue_url,
            Entries=[{"Id": str(i), "MessageBody": job.body} for i, job in enumerate(batch)],
        )
        failed = response.get("Failed", [])
        if failed:
            job = batch[int(failed[0]["Id"])]
            raise RuntimeError(f"could not submit {job.job_id}: {failed[0].get('Message')}")
