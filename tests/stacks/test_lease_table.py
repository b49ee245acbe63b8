"""The daemons' lease table as the stack declares it, under Pulumi's mocks."""

from __future__ import annotations

from stacks.naming import LEASE_KEY, LEASE_TTL_ATTRIBUTE, lease_table_arn, lease_table_name
from stacks.program import StackInputs, build_fleets, build_lease_table
from stacks.spec import parse_fleets
from tests.stacks.conftest import ACCOUNT, GEN, run_under_mocks


def test_the_stack_declares_one_on_demand_lease_table_with_recovery_and_ttl():
    inputs = StackInputs(fleets=parse_fleets([GEN]), prefix="spotfleet-dev", account=ACCOUNT)

    def program():
        build_lease_table(inputs)
        return build_fleets(inputs)

    deployed = run_under_mocks(program)
    (table,) = deployed.of_type("aws:dynamodb/table:Table")
    assert table.parent == "spotfleet:stacks:DaemonLeaseTable"
    args = table.inputs
    assert args["name"] == "spotfleet-dev-daemon-lease" == lease_table_name("spotfleet-dev")
    assert args["billingMode"] == "PAY_PER_REQUEST"
    assert args["hashKey"] == LEASE_KEY == "lease_name"
    assert args["attributes"] == [{"name": "lease_name", "type": "S"}]
    assert args["pointInTimeRecovery"] == {"enabled": True}
    assert args["ttl"] == {"attributeName": LEASE_TTL_ATTRIBUTE, "enabled": True}
    assert args["serverSideEncryption"] == {"enabled": True}
    assert "readCapacity" not in args and "writeCapacity" not in args


def test_the_lease_tables_arn_is_the_one_iam_evaluates():
    assert lease_table_arn(ACCOUNT, "spotfleet-dev-daemon-lease") == (
        "arn:aws:dynamodb:us-east-1:123456789012:table/spotfleet-dev-daemon-lease"
    )
