"""One declared fleet, whole: queues, events, buckets, node identity, launch template, and its
groups (one per candidate pool, one on-demand)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from gpu_node.userdata import NODE_SETTING_TAGS
from stacks.buckets import FleetBucket, FleetBucketArgs
from stacks.group import NodeGroup, NodeGroupArgs
from stacks.identity import NodeIdentity, NodeIdentityArgs
from stacks.interruptions import InterruptionEvents, InterruptionEventsArgs
from stacks.job_events import JobEvents, JobEventsArgs
from stacks.launch_template import NodeLaunchTemplate, NodeLaunchTemplateArgs
from stacks.layout import FleetLayout
from stacks.naming import AwsAccount, FleetNames, group_arn_pattern
from stacks.queues import JobQueues, JobQueuesArgs
from stacks.spec import FleetSpec, GroupKind, Placement, desired_capacity

__all__ = [
    "FLEET_TAG",
    "GROUP_KIND_TAG",
    "POOL_SUBNET_TAG",
    "POOL_TYPE_TAG",
    "GpuFleet",
    "GpuFleetArgs",
]

# The node's health API port (bound to loopback on the node; for an agent or a person on it).
NODE_HEALTH_PORT = 8080
# Torch threads when a node has no GPU; a GPU node does not use it.
NODE_CPU_THREADS = 1

FLEET_TAG = "spotfleet:fleet"
# Which group a node came from, readable on the instance and in DescribeInstances.
GROUP_KIND_TAG = "spotfleet:kind"  # spot | on-demand
POOL_TYPE_TAG = "spotfleet:pool-instance-type"  # spot groups only
POOL_SUBNET_TAG = "spotfleet:pool-subnet"  # spot groups only


@dataclass
class GpuFleetArgs:
    spec: FleetSpec
    layout: FleetLayout
    account: AwsAccount
    placement: Placement | None = None


class GpuFleet(pulumi.ComponentResource):
    """Everything one fleet needs. The placement, when there is one, only changes the groups'
    desired capacities."""

    queues: JobQueues
    job_events: JobEvents
    interruptions: InterruptionEvents
    model_cache: FleetBucket
    results: FleetBucket
    identity: NodeIdentity
    launch_template: NodeLaunchTemplate
    pool_groups: list[NodeGroup]  # in the order of layout.groups.pools
    on_demand_group: NodeGroup

    def __init__(
        self, name: str, args: GpuFleetArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("spotfleet:stacks:GpuFleet", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        spec, layout, names = args.spec, args.layout, args.layout.names
        self.names = names
        self.groups = layout.groups
        self.desired = desired_capacity(spec, args.placement)
        self.decision_id = args.placement.decision_id if args.placement is not None else ""
        self.model_s3_uri = layout.model_s3_uri

        self.queues = JobQueues(
            name, JobQueuesArgs(job=layout.job_queue, priority=layout.priority_queue), child
        )
        self.job_events = JobEvents(
            f"{name}-job-events",
            JobEventsArgs(topic_name=layout.events_topic, queue=layout.events_queue),
            child,
        )
        self.interruptions = InterruptionEvents(
            f"{name}-interruptions",
            InterruptionEventsArgs(
                queue=layout.interruption_queue, rules=layout.interruption_rules
            ),
            child,
        )
        self.model_cache = FleetBucket(
            f"{name}-models", FleetBucketArgs(layout.model_bucket), child
        )
        self.results = FleetBucket(f"{name}-results", FleetBucketArgs(layout.results_bucket), child)
        self.identity = NodeIdentity(
            f"{name}-node",
            NodeIdentityArgs(
                role_name=names.node_role,
                policy_name=names.node_policy,
                instance_profile_name=names.instance_profile,
                job_queue_arns=[self.queues.jobs.queue.arn, self.queues.priority.queue.arn],
                dead_letter_queue_arns=[
                    self.queues.jobs.dead_letter.arn,
                    self.queues.priority.dead_letter.arn,
                ],
                model_bucket_arn=self.model_cache.bucket.arn,
                model_s3_uri=layout.model_s3_uri,
                results_bucket_arn=self.results.bucket.arn,
                results_prefix=spec.results_prefix,
                events_topic_arn=self.job_events.topic.arn,
                group_arns=[group_arn_pattern(args.account, g) for g in self.groups.names],
                partition=args.account.partition,
            ),
            child,
        )
        # The security group belongs to the declared subnets' VPC.
        vpc_id = aws.ec2.get_subnet_output(
            id=spec.subnet_ids[0], opts=pulumi.InvokeOutputOptions(parent=self)
        ).vpc_id
        self.launch_template = NodeLaunchTemplate(
            f"{name}-node",
            NodeLaunchTemplateArgs(
                template_name=names.launch_template,
                security_group_name=names.security_group,
                ami_id=spec.ami_id,
                vpc_id=vpc_id,
                instance_profile_arn=self.identity.instance_profile.arn,
                root_device_name=spec.root_device_name,
                root_volume_gib=spec.root_volume_gib,
                node_package=spec.node_package,
                volume_tags={FLEET_TAG: spec.name},
            ),
            child,
        )
        tags = self._node_tags(spec, names)
        self.pool_groups = [
            self._group(
                f"{name}-{pool.instance_type}-{pool.subnet_id}",
                spec,
                group_name=pool.group_name,
                kind="spot",
                instance_types=[pool.instance_type],
                subnet_ids=[pool.subnet_id],
                desired=count.nodes,
                tags={
                    **tags,
                    "SPOTFLEET_ASG_NAME": pool.group_name,
                    GROUP_KIND_TAG: "spot",
                    POOL_TYPE_TAG: pool.instance_type,
                    POOL_SUBNET_TAG: pool.subnet_id,
                },
            )
            for pool, count in zip(self.groups.pools, self.desired.pools, strict=True)
        ]
        self.on_demand_group = self._group(
            f"{name}-on-demand",
            spec,
            group_name=self.groups.on_demand_group,
            kind="on-demand",
            instance_types=list(spec.instance_types),
            subnet_ids=list(spec.subnet_ids),
            desired=self.desired.on_demand,
            tags={
                **tags,
                "SPOTFLEET_ASG_NAME": self.groups.on_demand_group,
                GROUP_KIND_TAG: "on-demand",
            },
        )
        self.register_outputs(self.outputs())

    def _group(
        self,
        name: str,
        spec: FleetSpec,
        *,
        group_name: str,
        kind: GroupKind,
        instance_types: list[str],
        subnet_ids: list[str],
        desired: int,
        tags: dict[str, pulumi.Input[str]],
    ) -> NodeGroup:
        return NodeGroup(
            name,
            NodeGroupArgs(
                group_name=group_name,
                kind=kind,
                instance_types=instance_types,
                subnet_ids=subnet_ids,
                desired_capacity=desired,
                max_nodes=spec.max_nodes,
                lifecycle_hook_name=self.names.lifecycle_hook,
                drain_timeout_seconds=spec.drain_timeout_seconds,
                launch_template_id=self.launch_template.template.id,
                launch_template_version=self.launch_template.version,
                tags=tags,
            ),
            pulumi.ResourceOptions(parent=self),
        )

    def _node_tags(self, spec: FleetSpec, names: FleetNames) -> dict[str, pulumi.Input[str]]:
        """Instance tags: the node's settings (see ``gpu_node.userdata``) plus who owns it.
        ``SPOTFLEET_ASG_NAME`` is each group's own, set per group."""
        settings: dict[str, pulumi.Input[str]] = {
            "SPOTFLEET_FLEET": spec.name,
            "SPOTFLEET_QUEUE_URL": self.queues.jobs.queue.url,
            "SPOTFLEET_PRIORITY_QUEUE_URL": self.queues.priority.queue.url,
            "SPOTFLEET_RESULTS_BUCKET": self.results.bucket.bucket,
            "SPOTFLEET_EVENTS_TOPIC_ARN": self.job_events.topic.arn,
            "SPOTFLEET_MODEL_DIR": spec.model_dir,
            "SPOTFLEET_MODEL_S3_URI": self.model_s3_uri,
            "SPOTFLEET_LIFECYCLE_HOOK": names.lifecycle_hook,
            "SPOTFLEET_PORT": str(NODE_HEALTH_PORT),
            "SPOTFLEET_CPU_THREADS": str(NODE_CPU_THREADS),
            # Jobs name the declared model; without this a node serves its directory's name.
            "SPOTFLEET_MODEL_NAME": spec.model,
            # A drain started by Auto Scaling has no notice time: it gets the hook's timeout.
            "SPOTFLEET_DRAIN_DEADLINE_SECONDS": str(spec.node_drain_deadline_seconds),
        }
        missing = set(NODE_SETTING_TAGS) - set(settings) - {"SPOTFLEET_ASG_NAME"}
        if missing:
            # gpu_node grew a setting this program does not fill: fail the preview, not the node.
            raise RuntimeError(
                f"gpu_node reads settings {sorted(missing)} that stacks.fleet does not set; "
                "add them to GpuFleet._node_tags"
            )
        return {"Name": f"spotfleet-{spec.name}", FLEET_TAG: spec.name, **settings}

    def outputs(self) -> dict[str, pulumi.Input[Any]]:
        """This fleet's stack outputs, keyed as ``stacks.outputs.FLEET_OUTPUT_KEYS``."""
        return {
            "poolGroups": [
                {
                    "instanceType": pool.instance_type,
                    "subnetId": pool.subnet_id,
                    "groupName": group.group.name,
                }
                for pool, group in zip(self.groups.pools, self.pool_groups, strict=True)
            ],
            "onDemandGroupName": self.on_demand_group.group.name,
            "jobQueueUrl": self.queues.jobs.queue.url,
            "priorityQueueUrl": self.queues.priority.queue.url,
            "deadLetterQueueUrl": self.queues.jobs.dead_letter.url,
            "priorityDeadLetterQueueUrl": self.queues.priority.dead_letter.url,
            "interruptionQueueUrl": self.interruptions.events.queue.url,
            "jobEventsTopicArn": self.job_events.topic.arn,
            "jobEventsQueueUrl": self.job_events.history.queue.url,
            "modelCacheBucket": self.model_cache.bucket.bucket,
            "modelS3Uri": self.model_s3_uri,
            "resultsBucket": self.results.bucket.bucket,
            "launchTemplateId": self.launch_template.template.id,
            "launchTemplateVersion": self.launch_template.version,
            "nodeRoleArn": self.identity.role.arn,
            "decisionId": self.decision_id,
        }
