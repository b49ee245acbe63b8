"""The end-of-run accounting: every job is completed, dead-lettered, pending or lost."""

from __future__ import annotations

from reconciler.embedded.audit import audit_jobs
from reconciler.embedded.workload import plan_jobs


def test_every_job_is_accounted_for_once() -> None:
    jobs = plan_jobs(8, malformed_every=4)  # job-000003 and job-000007 are malformed
    valid = [j for j in jobs if j.valid]
    malformed = [j for j in jobs if not j.valid]
    results = {j.job_id for j in valid[:4]}  # two valid jobs have no result
    dead = [(malformed[0].body, "no prompt"), (malformed[1].body, None), ("stray", "x")]

    audit = audit_jobs(jobs, results, dead, pending=1)

    assert (audit.submitted, audit.valid, audit.malformed) == (8, 6, 2)
    assert audit.completed == 4
    assert audit.dead_lettered == 2  # the stray message is no planned job
    assert audit.malformed_with_reason == 1
    assert audit.missing == (valid[4].job_id, valid[5].job_id)
    # One of the two unaccounted jobs may be the one still queued; the other is lost.
    assert (audit.pending, audit.lost) == (1, 1)


def test_a_valid_job_in_the_dead_letter_queue_is_said_so() -> None:
    jobs = plan_jobs(2, malformed_every=0)
    audit = audit_jobs(jobs, {jobs[0].job_id}, [(jobs[1].body, "too many receives")], pending=0)
    assert (audit.valid_dead_lettered, audit.lost, audit.missing) == (1, 0, ())
