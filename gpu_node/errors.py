"""Errors raised by the generation service.

    NodeError                       anything the generation service refuses or cannot do
    ├── SettingsError               a setting is missing or out of range
    ├── InvalidJobError             a job message breaks the schema; carries the reason
    ├── AwsError                    an AWS call failed (boto3's error kept as ``__cause__``)
    │   ├── QueueError              SQS: receive, delete, visibility, dead-letter
    │   ├── ResultStoreError        S3: writing or reading a result
    │   └── EventPublishError       SNS: publishing a job event
    ├── MetadataError               the instance metadata service did not answer as expected
    ├── ModelError                  the model cannot be loaded or used
    │   ├── UnsupportedModelError   the model's own config names a pipeline we do not run
    │   └── GenerationError         the pipeline failed on one job (left to the queue's redrive)
    ├── ModelCacheError             the model could not be synced from S3
    │   └── CorruptModelFileError   a file's size or SHA-256 does not match the manifest
    └── JobCancelled                the drain took the running job back; not a failure

boto3, httpx and torch errors are translated where they enter, with the original kept as
``__cause__``.
"""

from __future__ import annotations

__all__ = [
    "AwsError",
    "CorruptModelFileError",
    "EventPublishError",
    "GenerationError",
    "InvalidJobError",
    "JobCancelled",
    "MetadataError",
    "ModelCacheError",
    "ModelError",
    "NodeError",
    "QueueError",
    "ResultStoreError",
    "SettingsError",
    "UnsupportedModelError",
]


class NodeError(Exception):
    """Base of every error the generation service raises."""


class SettingsError(NodeError):
    pass


class InvalidJobError(NodeError):
    """A job message the node will never run; ``reason`` goes beside it in the dead-letter queue."""

    def __init__(self, reason: str, *, job_id: str | None = None) -> None:
        self.reason = reason
        self.job_id = job_id
        super().__init__(reason)


class AwsError(NodeError):
    pass


class QueueError(AwsError):
    pass


class ResultStoreError(AwsError):
    pass


class EventPublishError(AwsError):
    pass


class MetadataError(NodeError):
    pass


class ModelError(NodeError):
    pass


class UnsupportedModelError(ModelError):
    pass


class GenerationError(ModelError):
    pass


class ModelCacheError(NodeError):
    pass


class CorruptModelFileError(ModelCacheError):
    """A downloaded file whose size or SHA-256 differs from the manifest."""

    def __init__(self, path: str, problem: str) -> None:
        self.path = path
        self.problem = problem
        super().__init__(f"{path}: {problem}")


class JobCancelled(NodeError):
    """Raised inside a running generation when the drain has given the job back."""
