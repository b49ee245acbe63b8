"""The nodes' IAM role and instance profile, with a least-privilege inline policy."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from stacks.policies import NodeGrants, node_policy, node_trust_policy

__all__ = ["NodeIdentity", "NodeIdentityArgs"]


@dataclass
class NodeIdentityArgs:
    role_name: str
    policy_name: str
    instance_profile_name: str
    job_queue_arns: Sequence[pulumi.Input[str]]
    dead_letter_queue_arns: Sequence[pulumi.Input[str]]
    model_bucket_arn: pulumi.Input[str]
    model_s3_uri: str
    results_bucket_arn: pulumi.Input[str]
    results_prefix: str
    events_topic_arn: pulumi.Input[str]
    group_arns: Sequence[str]
    partition: str


class NodeIdentity(pulumi.ComponentResource):
    """What a node is allowed to do: take its fleet's jobs, read the model, write results,
    publish job events, finish its termination hook in any of its fleet's groups. Nothing else."""

    role: aws.iam.Role
    policy: aws.iam.RolePolicy
    instance_profile: aws.iam.InstanceProfile

    def __init__(
        self, name: str, args: NodeIdentityArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("spotfleet:stacks:NodeIdentity", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.role = aws.iam.Role(
            name,
            aws.iam.RoleArgs(
                name=args.role_name,
                description="spotfleet generation node",
                assume_role_policy=json.dumps(node_trust_policy()),
            ),
            opts=child,
        )
        n_queues = len(args.job_queue_arns)
        n_dead = len(args.dead_letter_queue_arns)

        def document(arns: list[Any]) -> str:
            queues, rest = arns[:n_queues], arns[n_queues:]
            dead, (model_bucket, results_bucket, topic) = rest[:n_dead], rest[n_dead:]
            grants = NodeGrants(
                job_queue_arns=queues,
                dead_letter_queue_arns=dead,
                model_bucket_arn=model_bucket,
                model_s3_uri=args.model_s3_uri,
                results_bucket_arn=results_bucket,
                results_prefix=args.results_prefix,
                events_topic_arn=topic,
                group_arns=args.group_arns,
                partition=args.partition,
            )
            return json.dumps(node_policy(grants))

        self.policy = aws.iam.RolePolicy(
            name,
            aws.iam.RolePolicyArgs(
                name=args.policy_name,
                role=self.role.id,
                policy=pulumi.Output.all(
                    *args.job_queue_arns,
                    *args.dead_letter_queue_arns,
                    args.model_bucket_arn,
                    args.results_bucket_arn,
                    args.events_topic_arn,
                ).apply(document),
            ),
            opts=child,
        )
        self.instance_profile = aws.iam.InstanceProfile(
            name,
            aws.iam.InstanceProfileArgs(name=args.instance_profile_name, role=self.role.name),
            opts=child,
        )
        self.register_outputs(
            {"roleArn": self.role.arn, "instanceProfileArn": self.instance_profile.arn}
        )
