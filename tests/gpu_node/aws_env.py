"""Local AWS for the tests: moto's server over real HTTP, and the fixtures' queues and buckets."""

from __future__ import annotations

import functools
import json
import socket
import uuid
from dataclasses import dataclass, field
from typing import Any

import boto3

REGION = "us-east-1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def aws_env(endpoint: str) -> dict[str, str]:
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }


@dataclass
class Clients:
    sqs: Any
    s3: Any
    sns: Any


@functools.cache  # boto3 clients are costly to make and safe to share between tests
def clients(endpoint: str) -> Clients:
    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
    )
    return Clients(
        sqs=session.client("sqs", endpoint_url=endpoint),
        s3=session.client("s3", endpoint_url=endpoint),
        sns=session.client("sns", endpoint_url=endpoint),
    )


@dataclass
class Fleet:
    """One test's own queues, bucket and event topic (names unique per test)."""

    clients: Clients
    queue_url: str
    priority_queue_url: str
    dlq_url: str
    bucket: str
    topic_arn: str
    events_queue_url: str
    _events: list[dict[str, Any]] = field(default_factory=list)

    def settings_env(self, **extra: str) -> dict[str, str]:
        env = {
            "SPOTFLEET_QUEUE_URL": self.queue_url,
            "SPOTFLEET_PRIORITY_QUEUE_URL": self.priority_queue_url,
            "SPOTFLEET_RESULTS_BUCKET": self.bucket,
            "SPOTFLEET_EVENTS_TOPIC_ARN": self.topic_arn,
            "SPOTFLEET_FLEET": "test-fleet",
            "SPOTFLEET_INSTANCE_TYPE": "g5.xlarge",
            "SPOTFLEET_AVAILABILITY_ZONE": "us-east-1a",
            "SPOTFLEET_REGION": REGION,
            "SPOTFLEET_POLL_WAIT_SECONDS": "1",
            "SPOTFLEET_VISIBILITY_SECONDS": "30",
            "SPOTFLEET_MODEL_NAME": "fake-model",
            "SPOTFLEET_PORT": "0",
        }
        env.update(extra)
        return env

    def send(self, body: dict[str, Any] | str, *, priority: bool = False) -> None:
        url = self.priority_queue_url if priority else self.queue_url
        text = body if isinstance(body, str) else json.dumps(body)
        self.clients.sqs.send_message(QueueUrl=url, MessageBody=text)

    def result_keys(self) -> set[str]:
        reply = self.clients.s3.list_objects_v2(Bucket=self.bucket, Prefix="results/")
        return {item["Key"] for item in reply.get("Contents", [])}

    def result_record(self, job_id: str) -> dict[str, Any]:
        body = self.clients.s3.get_object(Bucket=self.bucket, Key=f"results/{job_id}.json")["Body"]
        return dict(json.loads(body.read()))

    def drain_queue(self, url: str, *, attributes: bool = False) -> list[dict[str, Any]]:
        """Every message now visible in the queue (received, not deleted)."""
        found: list[dict[str, Any]] = []
        while True:
            reply = self.clients.sqs.receive_message(
                QueueUrl=url,
                MaxNumberOfMessages=10,
                WaitTimeSeconds=0,
                MessageAttributeNames=["All"] if attributes else [],
                VisibilityTimeout=300,
            )
            messages = reply.get("Messages", [])
            if not messages:
                return found
            found.extend(messages)

    def events(self) -> list[dict[str, Any]]:
        """Every job event published so far, in arrival order (SNS -> SQS raw delivery)."""
        fresh = [json.loads(m["Body"]) for m in self.drain_queue(self.events_queue_url)]
        self._events.extend(fresh)
        return list(self._events)

    def visible_count(self, url: str) -> int:
        attrs = self.clients.sqs.get_queue_attributes(
            QueueUrl=url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attrs["ApproximateNumberOfMessages"])


def _queue_arn(url: str) -> str:
    # http://host/<account>/<name>: the ARN follows, no need to ask (fixtures are per test).
    account, name = url.rstrip("/").split("/")[-2:]
    return f"arn:aws:sqs:{REGION}:{account}:{name}"


def make_fleet(endpoint: str, *, max_receive_count: int = 3, visibility: int = 30) -> Fleet:
    c = clients(endpoint)
    tag = uuid.uuid4().hex[:10]
    dlq_url = c.sqs.create_queue(QueueName=f"jobs-dlq-{tag}")["QueueUrl"]
    dlq_arn = _queue_arn(dlq_url)
    redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": max_receive_count})
    attributes = {"RedrivePolicy": redrive, "VisibilityTimeout": str(visibility)}
    queue_url = c.sqs.create_queue(QueueName=f"jobs-{tag}", Attributes=attributes)["QueueUrl"]
    priority_url = c.sqs.create_queue(QueueName=f"jobs-priority-{tag}", Attributes=attributes)[
        "QueueUrl"
    ]
    bucket = f"results-{tag}"
    c.s3.create_bucket(Bucket=bucket)
    topic_arn = c.sns.create_topic(Name=f"job-events-{tag}")["TopicArn"]
    events_url = c.sqs.create_queue(QueueName=f"job-events-{tag}")["QueueUrl"]
    events_arn = _queue_arn(events_url)
    c.sns.subscribe(
        TopicArn=topic_arn,
        Protocol="sqs",
        Endpoint=events_arn,
        Attributes={"RawMessageDelivery": "true"},
    )
    return Fleet(
        clients=c,
        queue_url=queue_url,
        priority_queue_url=priority_url,
        dlq_url=dlq_url,
        bucket=bucket,
        topic_arn=topic_arn,
        events_queue_url=events_url,
    )


def job(job_id: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "job_id": job_id,
        "prompt": "a cat",
        "width": 32,
        "height": 32,
        "steps": 2,
        "seed": 7,
    }
    body.update(overrides)
    return body
