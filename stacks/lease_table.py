"""The daemons' lease table: one item per set of daemons that must not act together.

``reconciler/daemon/dynamo_lease.py`` writes it: hash key ``lease_name``; ``purge_at`` is the
TTL attribute (a week after the last renewal). On demand, since a lease is a few writes a
minute; point-in-time recovery on, so a table deleted or overwritten by mistake can be
restored (the fencing token's counter lives in it).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from stacks.naming import LEASE_KEY, LEASE_TTL_ATTRIBUTE

__all__ = ["DaemonLeaseTable", "DaemonLeaseTableArgs"]


@dataclass
class DaemonLeaseTableArgs:
    table_name: str


class DaemonLeaseTable(pulumi.ComponentResource):
    table: aws.dynamodb.Table
    table_name: str  # known before deployment: the daemon's policy names the table by it

    def __init__(
        self, name: str, args: DaemonLeaseTableArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("spotfleet:stacks:DaemonLeaseTable", name, None, opts)
        self.table_name = args.table_name
        self.table = aws.dynamodb.Table(
            name,
            aws.dynamodb.TableArgs(
                name=args.table_name,
                billing_mode="PAY_PER_REQUEST",
                hash_key=LEASE_KEY,
                attributes=[aws.dynamodb.TableAttributeArgs(name=LEASE_KEY, type="S")],
                point_in_time_recovery=aws.dynamodb.TablePointInTimeRecoveryArgs(enabled=True),
                ttl=aws.dynamodb.TableTtlArgs(attribute_name=LEASE_TTL_ATTRIBUTE, enabled=True),
                server_side_encryption=aws.dynamodb.TableServerSideEncryptionArgs(enabled=True),
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"name": self.table.name, "arn": self.table.arn})
