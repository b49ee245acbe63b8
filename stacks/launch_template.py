"""The nodes' launch template and their security group."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from gpu_node.userdata import render_user_data

__all__ = ["NodeLaunchTemplate", "NodeLaunchTemplateArgs"]

HTTPS = 443


@dataclass
class NodeLaunchTemplateArgs:
    template_name: str
    security_group_name: str
    ami_id: str
    vpc_id: pulumi.Input[str]
    instance_profile_arn: pulumi.Input[str]
    root_device_name: str
    root_volume_gib: int
    node_package: str
    volume_tags: Mapping[str, str] = field(default_factory=dict)


class NodeLaunchTemplate(pulumi.ComponentResource):
    """How a node boots: the AMI, IMDSv2 with instance tags readable, an encrypted gp3 root big
    enough for model weights, the node role, no way in from outside, and the user data that
    installs and starts the generation service. No instance type: the group's overrides pick it.

    Every change makes a new numbered version and makes it the default; the group names the
    number, so an instance refresh (and its rollback) knows exactly which version it rolls to.
    """

    security_group: aws.ec2.SecurityGroup
    template: aws.ec2.LaunchTemplate
    version: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        args: NodeLaunchTemplateArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("spotfleet:stacks:NodeLaunchTemplate", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        # No ingress at all (no SSH, no open ports): a node only pulls work. Egress is HTTPS
        # only: SQS, SNS, S3, Auto Scaling and pip all speak it; DNS, NTP and instance metadata
        # use link-local addresses that security groups do not filter.
        self.security_group = aws.ec2.SecurityGroup(
            name,
            aws.ec2.SecurityGroupArgs(
                name=args.security_group_name,
                description="spotfleet nodes: no inbound, HTTPS out",
                vpc_id=args.vpc_id,
                ingress=[],
                egress=[
                    aws.ec2.SecurityGroupEgressArgs(
                        description="HTTPS to AWS APIs and package indexes",
                        protocol="tcp",
                        from_port=HTTPS,
                        to_port=HTTPS,
                        cidr_blocks=["0.0.0.0/0"],
                        ipv6_cidr_blocks=["::/0"],
                    )
                ],
            ),
            opts=child,
        )
        user_data = render_user_data(package=args.node_package)
        self.template = aws.ec2.LaunchTemplate(
            name,
            aws.ec2.LaunchTemplateArgs(
                name=args.template_name,
                description="spotfleet generation node",
                image_id=args.ami_id,
                update_default_version=True,
                iam_instance_profile=aws.ec2.LaunchTemplateIamInstanceProfileArgs(
                    arn=args.instance_profile_arn
                ),
                vpc_security_group_ids=[self.security_group.id],
                metadata_options=aws.ec2.LaunchTemplateMetadataOptionsArgs(
                    http_endpoint="enabled",
                    http_tokens="required",
                    # One hop: only processes on the host itself reach instance metadata.
                    http_put_response_hop_limit=1,
                    # The node reads its settings from its own tags.
                    instance_metadata_tags="enabled",
                ),
                block_device_mappings=[
                    aws.ec2.LaunchTemplateBlockDeviceMappingArgs(
                        device_name=args.root_device_name,
                        ebs=aws.ec2.LaunchTemplateBlockDeviceMappingEbsArgs(
                            volume_size=args.root_volume_gib,
                            volume_type="gp3",
                            encrypted="true",
                            delete_on_termination="true",
                        ),
                    )
                ],
                tag_specifications=[
                    aws.ec2.LaunchTemplateTagSpecificationArgs(
                        resource_type="volume", tags=dict(args.volume_tags)
                    )
                ],
                user_data=base64.b64encode(user_data.encode()).decode("ascii"),
            ),
            opts=child,
        )
        self.version = self.template.latest_version.apply(str)
        self.register_outputs({"launchTemplateId": self.template.id, "version": self.version})
