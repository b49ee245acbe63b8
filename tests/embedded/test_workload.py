from __future__ import annotations

import json

from reconciler.embedded.local_aws import local_aws
from reconciler.embedded.workload import MALFORMED, jobs_due, plan_jobs, send_jobs


def test_the_plan_is_mostly_valid_jobs_with_every_kind_of_defect_among_them() -> None:
    jobs = plan_jobs(120, malformed_every=12)
    malformed = [j for j in jobs if not j.valid]
    assert len(malformed) == 10
    assert {j.defect for j in malformed} == {defect for defect, _ in MALFORMED}
    assert len({j.job_id for j in jobs}) == 120
    valid = json.loads(jobs[0].body)
    assert valid == {
        "job_id": "job-000000",
        "prompt": valid["prompt"],
        "width": 32,
        "height": 32,
        "steps": 2,
        "seed": 0,
    }
    assert plan_jobs(5, first=7)[0].job_id == "job-000007"
    assert all(j.valid for j in plan_jobs(50, malformed_every=0))


def test_a_steady_stream_submits_at_its_rate() -> None:
    assert [jobs_due(t, 30) for t in (0, 1.9, 2.0, 59.9, 60)] == [1, 1, 2, 30, 31]
    assert jobs_due(10, 0) == 0


def test_jobs_are_sent_in_batches_and_arrive_intact() -> None:
    with local_aws() as aws:
        sqs = aws.client("sqs")
        url = sqs.create_queue(QueueName="jobs")["QueueUrl"]
        jobs = plan_jobs(23, malformed_every=4)
        send_jobs(sqs, url, jobs)
        bodies: list[str] = []
        while len(bodies) < 23:
            messages = sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1
            ).get("Messages", [])
            assert messages, "jobs were lost in sending"
            bodies += [m["Body"] for m in messages]
        assert sorted(bodies) == sorted(j.body for j in jobs)
