"""The end of a demo: what became of every job, read back from AWS (the local emulation).

A valid job must end with a result; a malformed one in the dead-letter queue with its reason.
A job still in a queue is pending, not lost (SQS keeps it); anything else is lost.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from reconciler.embedded.workload import PlannedJob

__all__ = ["JobAudit", "audit_jobs", "dead_letters", "result_ids"]


@dataclass(frozen=True)
class JobAudit:
    submitted: int
    valid: int
    malformed: int
    completed: int  # valid jobs with their result
    dead_lettered: int  # messages in the dead-letter queues that are planned jobs
    malformed_with_reason: int  # malformed jobs dead-lettered with a reason beside them
    valid_dead_lettered: int  # valid jobs that ended in a dead-letter queue (should be 0)
    pending: int  # still in a job queue
    lost: int
    missing: tuple[str, ...] = field(default=())  # ids of valid jobs with no result yet


def result_ids(s3: Any, bucket: str, prefix: str = "results/") -> set[str]:
    """Job ids with both result objects (the image and its record)."""
    keys: set[str] = set()
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys.update(o["Key"] for o in page.get("Contents", []))
    stems = {k[len(prefix) :].rsplit(".", 1)[0] for k in keys}
    return {s for s in stems if f"{prefix}{s}.png" in keys and f"{prefix}{s}.json" in keys}


def dead_letters(sqs: Any, queue_url: str) -> list[tuple[str, str | None]]:
    """Every message of a dead-letter queue, (body, reason), read until it is empty. They are
    received, not deleted: they stay for the analyst once their visibility times out."""
    out: list[tuple[str, str | None]] = []
    while True:
        messages = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=0,
            VisibilityTimeout=30,
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            return out
        for m in messages:
            reason = m.get("MessageAttributes", {}).get("spotfleet-reason", {}).get("StringValue")
            out.append((str(m["Body"]), reason))


def audit_jobs(
    jobs: Sequence[PlannedJob],
    results: set[str],
    dead: Sequence[tuple[str, str | None]],
    pending: int,
) -> JobAudit:
    """Pure: the planned jobs against what was found. Pending jobs cannot be told apart (an
    in-flight message is invisible), so they are counted, and only the rest is called lost."""
    by_body = {j.body: j for j in jobs}
    dead_jobs = {
        by_body[body].job_id: (by_body[body], reason) for body, reason in dead if body in by_body
    }
    valid = [j for j in jobs if j.valid]
    malformed = [j for j in jobs if not j.valid]
    completed = [j for j in valid if j.job_id in results]
    valid_dead = [j for j in valid if j.job_id in dead_jobs and j.job_id not in results]
    missing = tuple(
        j.job_id for j in valid if j.job_id not in results and j.job_id not in dead_jobs
    )
    malformed_unaccounted = [j for j in malformed if j.job_id not in dead_jobs]
    unaccounted = len(missing) + len(malformed_unaccounted)
    return JobAudit(
        submitted=len(jobs),
        valid=len(valid),
        malformed=len(malformed),
        completed=len(completed),
        dead_lettered=len(dead_jobs),
        malformed_with_reason=sum(
            1 for j in malformed if j.job_id in dead_jobs and dead_jobs[j.job_id][1]
        ),
        valid_dead_lettered=len(valid_dead),
        pending=min(pending, unaccounted),
        lost=max(unaccounted - pending, 0),
        missing=missing,
    )
