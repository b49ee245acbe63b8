"""The launch template and the node security group."""

from __future__ import annotations

import base64

from gpu_node.userdata import render_user_data
from tests.stacks.conftest import VPC_ID, deploy, fleet

TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"


def template(stack, fleet_name="gen"):
    return stack.one(TEMPLATE, f"{fleet_name}-node").inputs


def test_imdsv2_is_required_and_tags_are_readable(placed_stack):
    metadata = template(placed_stack)["metadataOptions"]
    assert metadata["httpTokens"] == "required"
    assert metadata["httpEndpoint"] == "enabled"
    assert metadata["instanceMetadataTags"] == "enabled"
    assert metadata["httpPutResponseHopLimit"] == 1


def test_the_root_volume_is_encrypted_gp3_sized_for_weights(placed_stack):
    (gen_root,) = template(placed_stack)["blockDeviceMappings"]
    assert gen_root["deviceName"] == "/dev/sda1"
    assert gen_root["ebs"] == {
        "volumeSize": 200,
        "volumeType": "gp3",
        "encrypted": "true",
        "deleteOnTermination": "true",
    }
    (batch_root,) = template(placed_stack, "batch")["blockDeviceMappings"]
    assert batch_root["ebs"]["volumeSize"] == 400


def test_every_change_is_a_new_default_version(placed_stack):
    lt = template(placed_stack)
    assert lt["updateDefaultVersion"] is True
    assert lt["name"] == "spotfleet-dev-gen-node"
    assert lt["imageId"] == "ami-0abc1234"


def test_nodes_get_the_instance_profile_and_no_key_or_fixed_type(placed_stack):
    lt = template(placed_stack)
    assert lt["iamInstanceProfile"] == {
        "arn": "arn:aws:iam::123456789012:instance-profile/spotfleet-dev-gen-node"
    }
    for absent in ("keyName", "instanceType", "instanceMarketOptions", "networkInterfaces"):
        assert absent not in lt
    assert lt["vpcSecurityGroupIds"] == ["sg-0node0001"]


def test_user_data_is_the_node_bootstrap_and_carries_no_settings(placed_stack):
    script = base64.b64decode(template(placed_stack)["userData"]).decode()
    assert script == render_user_data(package="spotfleet[node]")
    assert "sqs.us-east-1" not in script
    assert "123456789012" not in script


def test_user_data_installs_the_declared_package():
    stack = deploy([fleet(nodePackage="spotfleet[node]==0.1.0")])
    script = base64.b64decode(template(stack)["userData"]).decode()
    assert script == render_user_data(package="spotfleet[node]==0.1.0")


def test_the_security_group_lets_nothing_in_and_only_https_out(placed_stack):
    group = placed_stack.one(SECURITY_GROUP, "gen-node").inputs
    assert group["vpcId"] == VPC_ID
    assert group.get("ingress", []) == []
    (egress,) = group["egress"]
    assert (egress["protocol"], egress["fromPort"], egress["toPort"]) == ("tcp", 443, 443)


def test_the_vpc_is_looked_up_from_the_first_declared_subnet(placed_stack):
    subnets = [args["id"] for token, args in placed_stack.calls if token.endswith("getSubnet")]
    assert sorted(subnets) == ["subnet-0aaa1111", "subnet-0ddd4444"]
    assert placed_stack.one(SECURITY_GROUP, "batch-node").inputs["vpcId"] == VPC_ID
