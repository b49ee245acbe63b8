"""One declared fleet, whole: queues, events, buckets, node identity, launch template, group."""

from __future__ import annotations

from dataclasses import dataclass

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
from stacks.spec import FleetSpec, Placement, resolve

__all__ = ["FLEET_TAG", "GpuFleet", "GpuFleetArgs"]

# The node's health API port (bound to loopback on the node; for an agent or a person on it).
NODE_HEALTH_PORT = 8080
# Torch threads when a node has no GPU; a GPU node does not use it.
NODE_CPU_THREADS = 1

FLEET_TAG = "spotfleet:fleet"


@dataclass
class GpuFleetArgs:
    spec: FleetSpec
    layout: FleetLayout
    account: AwsAccount
    placement: Placement | None = None


class GpuFleet(pulumi.ComponentResource):
    """Everything one fleet needs. The placement, when there is one, only changes the group:
    which types in which order, which subnets, how many nodes on-demand."""

    queues: JobQueues
    job_events: JobEvents
    interruptions: InterruptionEvents
    model_cache: FleetBucket
    results: FleetBucket
    identity: NodeIdentity
    launch_template: NodeLaunchTemplate
    group: NodeGroup

    def __init__(
        self, name: str, args: GpuFleetArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("spotfleet:stacks:GpuFleet", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        spec, layout, names = args.spec, args.layout, args.layout.names
        self.names = names
        self.resolved = resolve(spec, args.placement)
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
                group_arn=group_arn_pattern(args.account, names.group),
                partition=args.account.partition,
            ),
            child,
        )
        # The security group belongs to the declared subnets' VPC, not the placement's subset,
        # so a new placement never replaces it.
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
        self.group = NodeGroup(
            name,
            NodeGroupArgs(
                group_name=names.group,
                lifecycle_hook_name=names.lifecycle_hook,
                drain_timeout_seconds=spec.drain_timeout_seconds,
                min_nodes=spec.min_nodes,
                max_nodes=spec.max_nodes,
                resolved=self.resolved,
                launch_template_id=self.launch_template.template.id,
                launch_template_version=self.launch_template.version,
                tags=self._node_tags(spec, names),
            ),
            child,
        )
        self.register_outputs(self.outputs())

    def _node_tags(self, spec: FleetSpec, names: FleetNames) -> dict[str, pulumi.Input[str]]:
        """Instance tags: the node's settings (see ``gpu_node.userdata``) plus who owns it."""
        settings: dict[str, pulumi.Input[str]] = {
            "SPOTFLEET_FLEET": spec.name,
            "SPOTFLEET_QUEUE_URL": self.queues.jobs.queue.url,
            "SPOTFLEET_PRIORITY_QUEUE_URL": self.queues.priority.queue.url,
            "SPOTFLEET_RESULTS_BUCKET": self.results.bucket.bucket,
            "SPOTFLEET_EVENTS_TOPIC_ARN": self.job_events.topic.arn,
            "SPOTFLEET_MODEL_DIR": spec.model_dir,
            "SPOTFLEET_MODEL_S3_URI": self.model_s3_uri,
            "SPOTFLEET_LIFECYCLE_HOOK": names.lifecycle_hook,
            "SPOTFLEET_ASG_NAME": names.group,
            "SPOTFLEET_PORT": str(NODE_HEALTH_PORT),
            "SPOTFLEET_CPU_THREADS": str(NODE_CPU_THREADS),
        }
        missing = set(NODE_SETTING_TAGS) - set(settings)
        if missing:
            # gpu_node grew a setting this program does not fill: fail the preview, not the node.
            raise RuntimeError(
                f"gpu_node reads settings {sorted(missing)} that stacks.fleet does not set; "
                "add them to GpuFleet._node_tags"
            )
        return {"Name": f"spotfleet-{spec.name}", FLEET_TAG: spec.name, **settings}

    def outputs(self) -> dict[str, pulumi.Input[str]]:
        """This fleet's stack outputs, keyed as ``stacks.outputs.FLEET_OUTPUT_KEYS``."""
        return {
            "autoScalingGroupName": self.group.group.name,
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
            "decisionId": self.resolved.decision_id or "",
        }
