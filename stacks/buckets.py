"""A private S3 bucket: encrypted, all public access blocked, ACLs off, TLS only."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from stacks.layout import BucketLayout
from stacks.policies import tls_only_bucket_policy

__all__ = ["FleetBucket", "FleetBucketArgs"]

# Old model versions are kept a month, long enough to roll a fleet back to one.
NONCURRENT_VERSION_DAYS = 30
ABORT_UPLOAD_DAYS = 1


@dataclass
class FleetBucketArgs:
    layout: BucketLayout


class FleetBucket(pulumi.ComponentResource):
    """The model cache (versioned) or the results bucket (expiring), as ``layout`` says."""

    bucket: aws.s3.Bucket

    def __init__(
        self, name: str, args: FleetBucketArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("spotfleet:stacks:FleetBucket", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        layout = args.layout
        self.bucket = aws.s3.Bucket(name, aws.s3.BucketArgs(bucket=layout.name), opts=child)
        bucket_id = self.bucket.id
        aws.s3.BucketOwnershipControls(
            name,
            aws.s3.BucketOwnershipControlsArgs(
                bucket=bucket_id,
                rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
            ),
            opts=child,
        )
        public_access = aws.s3.BucketPublicAccessBlock(
            name,
            aws.s3.BucketPublicAccessBlockArgs(
                bucket=bucket_id,
                block_public_acls=True,
                block_public_policy=True,
                ignore_public_acls=True,
                restrict_public_buckets=True,
            ),
            opts=child,
        )
        aws.s3.BucketServerSideEncryptionConfiguration(
            name,
            aws.s3.BucketServerSideEncryptionConfigurationInitArgs(
                bucket=bucket_id,
                rules=[
                    aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                        apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                            sse_algorithm="AES256"
                        ),
                    )
                ],
            ),
            opts=child,
        )
        if layout.versioned:
            aws.s3.BucketVersioning(
                name,
                aws.s3.BucketVersioningInitArgs(
                    bucket=bucket_id,
                    versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(
                        status="Enabled"
                    ),
                ),
                opts=child,
            )
        aws.s3.BucketLifecycleConfiguration(
            name,
            aws.s3.BucketLifecycleConfigurationArgs(
                bucket=bucket_id, rules=_lifecycle_rules(layout)
            ),
            opts=child,
        )
        # After the public access block, so S3 never sees a policy on an unguarded bucket.
        aws.s3.BucketPolicy(
            name,
            aws.s3.BucketPolicyArgs(
                bucket=bucket_id,
                policy=self.bucket.arn.apply(lambda arn: json.dumps(tls_only_bucket_policy(arn))),
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[public_access]),
        )
        self.register_outputs({"bucket": self.bucket.bucket, "arn": self.bucket.arn})


def _lifecycle_rules(layout: BucketLayout) -> list[aws.s3.BucketLifecycleConfigurationRuleArgs]:
    everything = aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix="")
    abort = aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
        days_after_initiation=ABORT_UPLOAD_DAYS
    )
    rules = [
        aws.s3.BucketLifecycleConfigurationRuleArgs(
            id="abort-incomplete-uploads",
            status="Enabled",
            filter=everything,
            abort_incomplete_multipart_upload=abort,
        )
    ]
    if layout.versioned:
        rules.append(
            aws.s3.BucketLifecycleConfigurationRuleArgs(
                id="expire-old-versions",
                status="Enabled",
                filter=everything,
                noncurrent_version_expiration=aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                    noncurrent_days=NONCURRENT_VERSION_DAYS
                ),
            )
        )
    if layout.expiry_days is not None:
        rules.append(
            aws.s3.BucketLifecycleConfigurationRuleArgs(
                id="expire-objects",
                status="Enabled",
                filter=everything,
                expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(
                    days=layout.expiry_days
                ),
            )
        )
    return rules
