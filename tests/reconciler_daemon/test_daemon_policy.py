"""The daemon's IAM policy (``stacks.policies.daemon_policy`` from ``stacks.daemon_actions``)
against the calls the daemon really makes: every job of the daemon runs against moto's server
over HTTP, a botocore ``provide-client-params`` hook on each client records every operation
with its parameters, and each one must be allowed by the policy on the resource it touches;
the policy must grant nothing the daemon does not call.

moto does not implement GetSpotPlacementScores: that one call is answered inside botocore (a
``before-call`` hook, after the request was validated against the model and recorded) with
AWS's documented response shape, so it is still made, recorded and checked like the others.

The export job reaches S3 through pyarrow (the AWS C++ SDK), not botocore: its requests are
taken from moto's own request recorder and mapped to the IAM action S3 authorizes each by
(object PUT and multipart parts: s3:PutObject; GET/HEAD of an object: s3:GetObject; a
DeleteObjects batch: s3:DeleteObject per key; a listing: s3:ListBucket with its prefix).
"""

from __future__ import annotations

import base64
import fnmatch
import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

import boto3
import pytest
import requests
from botocore.awsrequest import AWSResponse
from moto.moto_api import recorder as moto_recorder

from analytics.export_target import S3Location
from analytics.pools import region_code
from analytics.store import open_history
from reconciler.actuate.shadow import ShadowActuator
from reconciler.core.aws import Clients, client
from reconciler.core.history.ledger import Ledger
from reconciler.core.settings import DaemonSettings, ScalingSettings
from reconciler.daemon.daemon import Daemon
from reconciler.daemon.dynamo_lease import DynamoLease
from reconciler.daemon.stack_fleets import zones_of_subnets
from stacks.daemon_actions import DAEMON_ACTIONS
from stacks.layout import HISTORY_EXPORT_PREFIX
from stacks.naming import AwsAccount, group_arn_pattern, lease_table_arn
from stacks.policies import DaemonGrants, HistoryGrants, allowed_actions, daemon_policy
from tests.history_rows import history_rows

from .conftest import REGION, AwsFleet, Clock, make_aws_fleet, warning_envelope
from .lease_aws import create_lease_table, dynamodb_client

LEASE_TABLE = "spotfleet-dev-daemon-lease"

ACCOUNT = AwsAccount(account_id="123456789012", region=REGION)
# Every declared action is called now: the policy is held to exactly what the daemon calls.
NOT_CALLED_YET: set[str] = set()
HISTORY_BUCKET = "spotfleet-test-history-123456789012"


class Recorder:
    """Makes the daemon's clients, each recording (IAM action, API parameters) per call."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def make(self, service: str, region: str) -> Any:
        made = client(service, region)
        made.meta.events.register("provide-client-params", self._record)
        if service == "ec2":
            made.meta.events.register("before-call.ec2.GetSpotPlacementScores", _placement_scores)
        return made

    def _record(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        self.calls.append((f"{model.service_model.signing_name}:{model.name}", dict(params)))


def _placement_scores(params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
    """AWS's answer to GetSpotPlacementScores (API reference's shape), which moto lacks."""
    assert params["body"]["SingleAvailabilityZone"] == "true", params["body"]
    (region,) = {v for k, v in params["body"].items() if k.startswith("RegionName")}
    parsed = {
        "SpotPlacementScores": [
            {"Region": region, "AvailabilityZoneId": f"{region_code(region)}-az{n}", "Score": s}
            for n, s in ((1, 9), (2, 3))
        ],
        "ResponseMetadata": {"HTTPStatusCode": 200},
    }
    return AWSResponse("https://ec2.amazonaws.com/", 200, {}, None), parsed


def queue_arn(url: str) -> str:
    account, name = urlparse(url).path.strip("/").split("/")
    return f"arn:aws:sqs:{REGION}:{account}:{name}"


def s3_calls(recording: str, bucket: str) -> list[tuple[str, dict[str, Any]]]:
    """Each S3 request moto recorded, as (IAM action, {"S3Resource": arn, "S3Prefix": ...})."""
    calls: list[tuple[str, dict[str, Any]]] = []
    for line in recording.splitlines():
        entry = json.loads(line)
        url = urlparse(entry["url"])
        name, _, key = url.path.lstrip("/").partition("/")
        if name != bucket:
            continue
        key, query, method = (
            unquote(key),
            parse_qs(url.query, keep_blank_values=True),
            entry["method"],
        )
        arn = f"arn:aws:s3:::{bucket}"
        if not key and method == "GET" and "list-type" in query:
            calls.append(("s3:ListBucket", {"S3Resource": arn, "S3Prefix": query["prefix"][0]}))
        elif not key and method == "POST" and "delete" in query:
            body = entry["body"]
            xml = base64.b64decode(body) if entry["body_encoded"] else body.encode()
            for element in ET.fromstring(xml).iter():
                if element.tag.endswith("Key") and element.text:
                    calls.append(("s3:DeleteObject", {"S3Resource": f"{arn}/{element.text}"}))
        elif key and method in ("PUT", "POST"):  # a put, or a multipart upload's steps
            calls.append(("s3:PutObject", {"S3Resource": f"{arn}/{key}"}))
        elif key and method in ("GET", "HEAD"):
            calls.append(("s3:GetObject", {"S3Resource": f"{arn}/{key}"}))
        elif key and method == "DELETE":
            action = "s3:AbortMultipartUpload" if "uploadId" in query else "s3:DeleteObject"
            calls.append((action, {"S3Resource": f"{arn}/{key}"}))
        else:
            raise AssertionError(f"an S3 request this test cannot map to IAM: {method} {url}")
    return calls


def resource_of(action: str, params: dict[str, Any], group_arns: dict[str, str]) -> str | None:
    """The ARN a call acts on, as IAM evaluates it; None for calls IAM cannot scope."""
    if "S3Resource" in params:
        return str(params["S3Resource"])
    if "QueueUrl" in params:
        return queue_arn(params["QueueUrl"])
    if "TableName" in params:
        return lease_table_arn(ACCOUNT, params["TableName"])
    if action in ("autoscaling:SetDesiredCapacity", "autoscaling:DescribeScalingActivities"):
        return group_arns[params["AutoScalingGroupName"]] if action.endswith("Capacity") else None
    if action == "autoscaling:TerminateInstanceInAutoScalingGroup":
        return group_arns[GROUP_OF[params["InstanceId"]]]
    return None


GROUP_OF: dict[str, str] = {}  # instance id -> its group, as the driven fleet ran them


def allows(
    document: dict[str, Any], action: str, resource: str | None, prefix: str | None = None
) -> bool:
    for statement in document["Statement"]:
        if statement["Effect"] != "Allow" or action not in statement["Action"]:
            continue
        if "Condition" in statement:
            (patterns,) = statement["Condition"]["StringLike"].values()  # s3:prefix, only
            if prefix is None or not any(fnmatch.fnmatchcase(prefix, p) for p in patterns):
                continue
        resources = statement["Resource"]
        if resource is None:
            if resources == ["*"]:
                return True
        elif any(fnmatch.fnmatchcase(resource, pattern) for pattern in resources):
            return True
    return False


def policy_for(f: AwsFleet, sqs: Any) -> dict[str, Any]:
    return daemon_policy(
        [
            DaemonGrants(
                group_arns=[group_arn_pattern(ACCOUNT, g) for g in f.fleet.groups()],
                event_queue_arns=[
                    queue_arn(url)
                    for url in (f.fleet.interruption_queue_url, f.fleet.job_events_queue_url)
                    if url is not None
                ],
                job_queue_arns=[queue_arn(url) for url in f.fleet.job_queue_urls],
            )
        ],
        HistoryGrants(f"arn:aws:s3:::{HISTORY_BUCKET}", HISTORY_EXPORT_PREFIX),
        lease_table_arn=lease_table_arn(ACCOUNT, LEASE_TABLE),
    )


@pytest.fixture
def driven(
    aws: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Recorder, AwsFleet, dict[str, Any], dict[str, str]]:
    """Every job of a daemon in pulumi mode, with something to do for each, holding the
    DynamoDB lease (taken, checked before each action, renewed, released)."""
    f = make_aws_fleet(desired=1)
    sqs = boto3.client("sqs", region_name=REGION)
    (jobs,) = f.fleet.job_queue_urls
    for i in range(7):
        sqs.send_message(QueueUrl=jobs, MessageBody=f"job {i}")
    assert f.fleet.interruption_queue_url and f.fleet.job_events_queue_url
    sqs.send_message(
        QueueUrl=f.fleet.interruption_queue_url, MessageBody=warning_envelope("i-0someone000000")
    )
    sqs.send_message(QueueUrl=f.fleet.job_events_queue_url, MessageBody="{}")
    recorder = Recorder()
    create_lease_table(dynamodb_client(aws), LEASE_TABLE)
    lease = DynamoLease(
        recorder.make("dynamodb", REGION),
        table=LEASE_TABLE,
        name="spotfleet",
        expiry_s=60,
        renew_s=20,
    )
    assert lease.try_acquire(datetime.now(UTC))
    daemon = Daemon(
        settings=DaemonSettings(
            fleets=(f.fleet,),
            mode="pulumi",
            scaling=ScalingSettings(acceptable_latency_s=60, default_seconds_per_job=20),
            export_dir=S3Location(HISTORY_BUCKET, HISTORY_EXPORT_PREFIX.rstrip("/")),
        ),
        ledger=Ledger(open_history(tmp_path / "h.duckdb")),
        actuators={"shadow": ShadowActuator(), "pulumi": ShadowActuator()},
        clients=Clients(make=recorder.make),
        clock=Clock(datetime.now(UTC)),  # moto stamps launches with the wall clock
        leader=lease.still_held,
        fence=lease.fence,
    )
    # At start, the daemon reads its fleets from the stack: each subnet's zone.
    zones_of_subnets(recorder.make("ec2", REGION), list(f.fleet.subnets.values()))
    daemon.collect_prices()
    daemon.collect_placement_scores()
    scored = history_rows(daemon.ledger, "SELECT DISTINCT zone_id, score FROM placement_scores")
    assert sorted(scored) == [("use1-az1", 9), ("use1-az2", 3)]
    daemon.observe_fleet()
    groups = f.autoscaling.describe_auto_scaling_groups()["AutoScalingGroups"]
    running = {i["InstanceId"]: g["AutoScalingGroupName"] for g in groups for i in g["Instances"]}
    GROUP_OF.clear()
    GROUP_OF.update(running)
    (ours,) = running
    # A warning about one of ours: the reconcile it triggers drains it through its group and
    # sizes the groups to the backlog's K (7 jobs / 3 per node = 3).
    sqs.send_message(
        QueueUrl=f.fleet.interruption_queue_url,
        MessageBody=warning_envelope(ours, at=datetime.now(UTC)),
    )
    daemon.consume_interruptions()
    daemon.consume_job_events()
    decision = daemon.reconciler.last_decision["gen"]
    assert decision.applied and "K=3" in decision.reason, decision.reason
    assert ours not in {i["InstanceId"] for i in f.instances()}
    daemon.reconcile()
    assert lease.renew()
    lease.release()
    # The export job, three times: the third export's retention deletes the first snapshot.
    boto3.client("s3", region_name=REGION).create_bucket(Bucket=HISTORY_BUCKET)
    monkeypatch.setattr(moto_recorder, "_location", str(tmp_path / "moto-recording"))
    requests.post(f"{aws}/moto-api/recorder/reset-recording", timeout=10)
    requests.post(f"{aws}/moto-api/recorder/start-recording", timeout=10)
    try:
        for _ in range(3):
            daemon.export()
    finally:
        requests.post(f"{aws}/moto-api/recorder/stop-recording", timeout=10)
    recording = requests.get(f"{aws}/moto-api/recorder/download-recording", timeout=10).text
    recorder.calls.extend(s3_calls(recording, HISTORY_BUCKET))
    daemon.ledger.history.close()
    group_arns = {g["AutoScalingGroupName"]: g["AutoScalingGroupARN"] for g in groups}
    return recorder, f, policy_for(f, sqs), group_arns


def test_every_call_the_daemon_makes_is_allowed_on_the_resource_it_touches(driven) -> None:
    recorder, _f, document, group_arns = driven
    assert recorder.calls
    refused = [
        (action, resource)
        for action, params in recorder.calls
        if not allows(
            document,
            action,
            resource := resource_of(action, params, group_arns),
            params.get("S3Prefix"),
        )
    ]
    assert refused == []


def test_the_policy_grants_nothing_the_daemon_does_not_call(driven) -> None:
    recorder, _f, document, _groups = driven
    called = {action for action, _ in recorder.calls}
    assert called == {
        "ec2:DescribeSpotPriceHistory",
        "ec2:GetSpotPlacementScores",
        "ec2:DescribeInstances",
        "ec2:DescribeSubnets",
        "autoscaling:DescribeAutoScalingGroups",
        "autoscaling:SetDesiredCapacity",
        "autoscaling:TerminateInstanceInAutoScalingGroup",
        "autoscaling:DescribeScalingActivities",
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:GetQueueAttributes",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "s3:PutObject",
        "s3:GetObject",
        "s3:DeleteObject",
        "s3:ListBucket",
    }
    assert set(allowed_actions(document)) - called == NOT_CALLED_YET
    assert {a.action for a in DAEMON_ACTIONS} == called | NOT_CALLED_YET


def test_the_job_queues_backlog_is_read_on_the_job_queues_and_only_there(driven) -> None:
    """The defect of issue 14: the scaler's GetQueueAttributes on the job queues was refused."""
    recorder, f, document, group_arns = driven
    backlog_reads = [p for a, p in recorder.calls if a == "sqs:GetQueueAttributes"]
    assert {p["QueueUrl"] for p in backlog_reads} == set(f.fleet.job_queue_urls)
    (jobs,) = f.fleet.job_queue_urls
    assert allows(document, "sqs:GetQueueAttributes", queue_arn(jobs))
    assert f.fleet.interruption_queue_url is not None
    interruptions = queue_arn(f.fleet.interruption_queue_url)
    assert not allows(document, "sqs:GetQueueAttributes", interruptions)
    assert not allows(document, "sqs:ReceiveMessage", queue_arn(jobs))  # nodes take jobs
    assert not allows(document, "dynamodb:PutItem", lease_table_arn(ACCOUNT, "someone-else"))
    other_group = group_arns[f.fleet.on_demand_group].replace("spotfleet-gen", "someone-else")
    assert not allows(document, "autoscaling:SetDesiredCapacity", other_group)


def test_every_change_to_a_group_is_preceded_by_the_leases_fencing_read(driven) -> None:
    recorder, _f, _document, _groups = driven
    actions = [action for action, _ in recorder.calls]
    changes = [
        i
        for i, a in enumerate(actions)
        if a
        in ("autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup")
    ]
    assert changes
    assert all(actions[i - 1] == "dynamodb:GetItem" for i in changes), actions


def test_the_export_touches_only_its_prefix_of_the_history_bucket(driven) -> None:
    recorder, _f, document, _groups = driven
    touched = [p for a, p in recorder.calls if a.startswith("s3:")]
    assert touched
    bucket = f"arn:aws:s3:::{HISTORY_BUCKET}"
    assert all(
        p["S3Resource"].startswith(f"{bucket}/{HISTORY_EXPORT_PREFIX}")
        or (p["S3Resource"] == bucket and p["S3Prefix"].startswith(HISTORY_EXPORT_PREFIX))
        for p in touched
    )
    elsewhere = f"{bucket}/other-team/data.parquet"
    assert not allows(document, "s3:PutObject", elsewhere)
    assert not allows(document, "s3:ListBucket", bucket, "other-team/")
    assert allows(document, "s3:ListBucket", bucket, "history/.snapshots/")
