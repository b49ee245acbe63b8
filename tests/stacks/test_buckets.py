"""Model cache, results and history buckets: private, encrypted, TLS only; versioned or
expiring as their job needs."""

from __future__ import annotations

import json

import pytest

BUCKETS = ["gen-models", "gen-results", "batch-models", "batch-results", "history"]


def part(stack, kind, name):
    return stack.one(f"aws:s3/{kind[0].lower()}{kind[1:]}:{kind}", name).inputs


@pytest.mark.parametrize("name", BUCKETS)
def test_every_bucket_blocks_all_public_access(placed_stack, name):
    block = part(placed_stack, "BucketPublicAccessBlock", name)
    assert block["bucket"] == part(placed_stack, "Bucket", name)["bucket"]
    for setting in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls"):
        assert block[setting] is True
    assert block["restrictPublicBuckets"] is True
    ownership = part(placed_stack, "BucketOwnershipControls", name)
    assert ownership["rule"]["objectOwnership"] == "BucketOwnerEnforced"


@pytest.mark.parametrize("name", BUCKETS)
def test_every_bucket_is_encrypted(placed_stack, name):
    (rule,) = part(placed_stack, "BucketServerSideEncryptionConfiguration", name)["rules"]
    assert rule["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "AES256"


@pytest.mark.parametrize("name", BUCKETS)
def test_every_bucket_refuses_plain_http(placed_stack, name):
    bucket = part(placed_stack, "Bucket", name)["bucket"]
    (stmt,) = json.loads(part(placed_stack, "BucketPolicy", name)["policy"])["Statement"]
    assert stmt["Effect"] == "Deny"
    assert stmt["Principal"] == "*"
    assert stmt["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert stmt["Resource"] == [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]


def test_the_model_cache_is_versioned_and_results_are_not(placed_stack):
    versioning = part(placed_stack, "BucketVersioning", "gen-models")
    assert versioning["versioningConfiguration"]["status"] == "Enabled"
    assert versioning["bucket"] == "spotfleet-dev-gen-models-123456789012"
    assert not [
        r
        for r in placed_stack.of_type("aws:s3/bucketVersioning:BucketVersioning")
        if r.name.endswith("-results")
    ]


def test_results_expire_after_the_declared_days(placed_stack):
    rules = part(placed_stack, "BucketLifecycleConfiguration", "gen-results")["rules"]
    (expiry,) = [r for r in rules if "expiration" in r]
    assert expiry["status"] == "Enabled"
    assert expiry["expiration"]["days"] == 30
    assert expiry["filter"] == {"prefix": ""}


def test_the_model_cache_never_expires_current_models(placed_stack):
    rules = part(placed_stack, "BucketLifecycleConfiguration", "gen-models")["rules"]
    assert not [r for r in rules if "expiration" in r]
    assert [
        r["noncurrentVersionExpiration"]["noncurrentDays"]
        for r in rules
        if "noncurrentVersionExpiration" in r
    ] == [30]


def test_no_bucket_has_an_acl_or_a_website(placed_stack):
    for bucket in placed_stack.of_type("aws:s3/bucket:Bucket"):
        assert set(bucket.inputs) <= {"bucket", "forceDestroy"}
        assert bucket.parent == "spotfleet:stacks:FleetBucket"


def test_the_history_bucket_is_the_stacks_one_and_keeps_what_retention_keeps(placed_stack):
    assert part(placed_stack, "Bucket", "history")["bucket"] == (
        "spotfleet-dev-history-123456789012"
    )
    assert not [
        r
        for r in placed_stack.of_type("aws:s3/bucketVersioning:BucketVersioning")
        if r.name == "history"
    ]
    rules = part(placed_stack, "BucketLifecycleConfiguration", "history")["rules"]
    # No expiry (the export's retention decides); a killed export's multipart upload is aborted.
    assert [r["id"] for r in rules] == ["abort-incomplete-uploads"]
    assert rules[0]["abortIncompleteMultipartUpload"] == {"daysAfterInitiation": 1}
