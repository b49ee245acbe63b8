"""One Auto Scaling group of a fleet: a spot pool's (one type, one subnet) or the on-demand one
(every type in declared order, every subnet), drained on the way out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from stacks.spec import GroupKind

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
    kind: GroupKind
    instance_types: Sequence[str]  # a spot group: one; the on-demand group: all, by priority
    subnet_ids: Sequence[str]  # a spot group: one; the on-demand group: all
    desired_capacity: int
    max_nodes: int
    lifecycle_hook_name: str
    drain_timeout_seconds: int
    launch_template_id: pulumi.Input[str]
    launch_template_version: pulumi.Input[str]
    tags: Mapping[str, pulumi.Input[str]]


class NodeGroup(pulumi.ComponentResource):
    """A group that holds exactly its desired capacity: the placement's count for it.

    Desired capacity is the stack's (no ignore_changes): the daemon may set it at once with
    SetDesiredCapacity for an urgent change and writes it into the placement at its next stack
    update, so the stack and AWS agree again after one reconcile. min 0, max the fleet's max.
    """

    group: aws.autoscaling.Group

    def __init__(
        self, name: str, args: NodeGroupArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("spotfleet:stacks:NodeGroup", name, None, opts)
        spot = args.kind == "spot"
        self.group = aws.autoscaling.Group(
            name,
            aws.autoscaling.GroupArgs(
                name=args.group_name,
                min_size=0,
                max_size=args.max_nodes,
                desired_capacity=args.desired_capacity,
                vpc_zone_identifiers=list(args.subnet_ids),
                # Off: a rebalance recommendation would make the group launch a replacement in
                # its own pool, the one at risk. The daemon reads the recommendation and places
                # the replacement in another pool's group instead.
                capacity_rebalance=False,
                health_check_type="EC2",
                health_check_grace_period=WARMUP_SECONDS,
                default_instance_warmup=WARMUP_SECONDS,
                # GPU spot capacity can be short for a while; the daemon reads the failed
                # launches from the scaling activities, so `pulumi up` must not block on them.
                wait_for_capacity_timeout="0",
                mixed_instances_policy=aws.autoscaling.GroupMixedInstancesPolicyArgs(
                    instances_distribution=aws.autoscaling.GroupMixedInstancesPolicyInstancesDistributionArgs(
                        on_demand_base_capacity=0,
                        on_demand_percentage_above_base_capacity=0 if spot else 100,
                        on_demand_allocation_strategy="prioritized",
                        # One pool per spot group: there is nothing for EC2 to choose between.
                        spot_allocation_strategy="price-capacity-optimized",
                    ),
                    launch_template=aws.autoscaling.GroupMixedInstancesPolicyLaunchTemplateArgs(
                        launch_template_specification=aws.autoscaling.GroupMixedInstancesPolicyLaunchTemplateLaunchTemplateSpecificationArgs(
                            launch_template_id=args.launch_template_id,
                            version=args.launch_template_version,
                        ),
                        overrides=[
                            aws.autoscaling.GroupMixedInstancesPolicyLaunchTemplateOverrideArgs(
                                instance_type=instance_type
                            )
                            for instance_type in args.instance_types
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
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"name": self.group.name, "arn": self.group.arn})
