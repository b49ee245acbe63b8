"""The spotfleet Pulumi program: every fleet declared in ``spotfleet:fleets``, placed as
``spotfleet:placements`` says. Config is read here, once, and nowhere else."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws
from pulumi.runtime.config import CONFIG, get_config_env

from stacks.errors import StackConfigError
from stacks.naming import AwsAccount, default_prefix, validate_prefix
from stacks.outputs import DAEMON_LEASE_TABLE, DAEMON_POLICY, FLEETS, HISTORY
from stacks.program import (
    StackInputs,
    build_fleets,
    build_history,
    build_lease_table,
    daemon_policy_json,
    fleet_outputs,
    history_outputs,
)
from stacks.spec import parse_fleets, parse_placements
from stacks.stack_config import check_keys


def read_inputs(config: pulumi.Config, account: AwsAccount) -> StackInputs:
    """Validated stack inputs; a bad value stops the program with its message, no traceback.

    (Text that is not JSON at all is refused by ``Config.get_object`` itself, as a RunError.)
    """
    try:
        # The keys Pulumi passed (the stack file's, or PULUMI_CONFIG's when run by hand).
        check_keys([*CONFIG.get(), *get_config_env()])
        fleets = parse_fleets(config.require_object("fleets"))
        placements = parse_placements(config.get_object("placements"), fleets)
        # Empty (Pulumi.yaml's default) means: derive it from the stack name.
        prefix_value = config.get("namePrefix")
        prefix = (
            validate_prefix(prefix_value) if prefix_value else default_prefix(pulumi.get_stack())
        )
    except StackConfigError as exc:
        raise pulumi.RunError(str(exc)) from exc
    return StackInputs(fleets=fleets, placements=placements, prefix=prefix, account=account)


def current_account() -> AwsAccount:
    return AwsAccount(
        account_id=aws.get_caller_identity().account_id,
        region=aws.get_region().region,
        partition=aws.get_partition().partition,
    )


account = current_account()
inputs = read_inputs(pulumi.Config("spotfleet"), account)
fleets = build_fleets(inputs)
lease = build_lease_table(inputs)
history = build_history(inputs)
pulumi.export(FLEETS, fleet_outputs(fleets))
pulumi.export(HISTORY, history_outputs(history))
pulumi.export(
    DAEMON_POLICY, daemon_policy_json(fleets, account, history, lease_table=lease.table_name)
)
pulumi.export(DAEMON_LEASE_TABLE, lease.table.name)
