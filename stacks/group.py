"""The fleet's Auto Scaling group: spot first, in the placement's order, drained on the way out."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from stacks.spec import ResolvedFleet

__all__ = ["NodeGroup", "NodeGroupArgs"]

# Launch before terminate: a refresh adds the new node, then retires the old one.
MIN_HEALTHY_PERCENT = 100
# Double at most, for as long as one replacement takes; anything lower rounds to the same
# one extra node on the small groups GPU fleets are.
MAX_HEALTHY_PERCENT = 200
# Time for a node to install the service and load the model before it counts as healthy.
WARMUP_SECONDS = 600


@dataclass
class NodeGroupArgs:
    group_name: str
    lifecycle_hook_name: str
    drain_timeout_seconds: int
    min_nodes: int
    max_nodes: int
    resolved: ResolvedFleet
    launch_template_id: pulumi.Input[str]
    launch_template_version: pulumi.Input[str]
    tags: Mapping[str, pulumi.Input[str]]


class NodeGroup(pulumi.ComponentResource):
    """Spot capacity from the overrides in priority order, an on-demand base and nothing
    on-demand above it, capacity rebalancing, a termination hook that lets a node finish its
    job, and rolling instance refresh with rollback. Desired capacity belongs to the daemon.
    """

    group: aws.autoscaling.Group

    def __init__(
        self, name: str, args: NodeGroupArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("spotfleet:stacks:NodeGroup", name, None, opts)
        resolved = args.resolved
        self.group = aws.autoscaling.Group(
            name,
            aws.autoscaling.GroupArgs(
                name=args.group_name,
                min_size=args.min_nodes,
                max_size=args.max_nodes,
                # Only the first value counts: afterwards the daemon sets it (ignore_changes).
                desired_capacity=args.min_nodes,
                vpc_zone_identifiers=list(resolved.subnet_ids),
                capacity_rebalance=True,
                health_check_type="EC2",
                health_check_grace_period=WARMUP_SECONDS,
                default_instance_warmup=WARMUP_SECONDS,
                # GPU spot capacity can be short for a while; the daemon watches capacity, so
                # `pulumi up` must not block waiting for it.
                wait_for_capacity_timeout="0",
                mixed_instances_policy=aws.autoscaling.GroupMixedInstancesPolicyArgs(
                    instances_distribution=aws.autoscaling.GroupMixedInstancesPolicyInstancesDistributionArgs(
                        on_demand_base_capacity=resolved.on_demand_base,
                        on_demand_percentage_above_base_capacity=0,
                        on_demand_allocation_strategy="prioritized",
                        spot_allocation_strategy=resolved.spot_allocation_strategy,
                    ),
                    launch_template=aws.autoscaling.GroupMixedInstancesPolicyLaunchTemplateArgs(
                        launch_template_specification=aws.autoscaling.GroupMixedInstancesPolicyLaunchTemplateLaunchTemplateSpecificationArgs(
                            launch_template_id=args.launch_template_id,
                            version=args.launch_template_version,
                        ),
                        overrides=[
                            aws.autoscaling.GroupMixedInstancesPolicyLaunchTemplateOverrideArgs(
                                instance_type=override.instance_type,
                                weighted_capacity=str(override.weighted_capacity),
                            )
                            for override in resolved.overrides
                        ],
                    ),
                ),
                # In the group itself, not a separate hook resource: the hook must exist
                # before the first node launches, or that node could be cut off mid-job.
                initial_lifecycle_hooks=[
                    aws.autoscaling.GroupInitialLifecycleHookArgs(
                        name=args.lifecycle_hook_name,
                        lifecycle_transition="autoscaling:EC2_INSTANCE_TERMINATING",
                        heartbeat_timeout=args.drain_timeout_seconds,
                        # If a node dies before completing the hook, terminate anyway.
                        default_result="CONTINUE",
                    )
                ],
                instance_refresh=aws.autoscaling.GroupInstanceRefreshArgs(
                    strategy="Rolling",
                    preferences=aws.autoscaling.GroupInstanceRefreshPreferencesArgs(
                        min_healthy_percentage=MIN_HEALTHY_PERCENT,
                        max_healthy_percentage=MAX_HEALTHY_PERCENT,
                        skip_matching=True,
                        auto_rollback=True,
                        instance_warmup=str(WARMUP_SECONDS),
                    ),
                ),
                tags=[
                    aws.autoscaling.GroupTagArgs(key=key, value=value, propagate_at_launch=True)
                    for key, value in args.tags.items()
                ],
            ),
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["desiredCapacity"]),
        )
        self.register_outputs({"name": self.group.name, "arn": self.group.arn})
