"""SQS queues that always come with a dead-letter queue, and the fleet's two job queues."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from stacks.layout import QueueLayout

__all__ = ["DeadLetteredQueue", "DeadLetteredQueueArgs", "JobQueues", "JobQueuesArgs"]


@dataclass
class DeadLetteredQueueArgs:
    layout: QueueLayout


class DeadLetteredQueue(pulumi.ComponentResource):
    """A standard queue, SSE-encrypted, that moves a message to its own dead-letter queue after
    ``maxReceiveCount`` receives; no queue of the stack exists without one."""

    queue: aws.sqs.Queue
    dead_letter: aws.sqs.Queue

    def __init__(
        self,
        name: str,
        args: DeadLetteredQueueArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("spotfleet:stacks:DeadLetteredQueue", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        layout = args.layout
        self.dead_letter = aws.sqs.Queue(
            f"{name}-dlq",
            aws.sqs.QueueArgs(
                name=layout.dead_letter.name,
                message_retention_seconds=layout.dead_letter.message_retention_seconds,
                sqs_managed_sse_enabled=True,
            ),
            opts=child,
        )
        self.queue = aws.sqs.Queue(
            name,
            aws.sqs.QueueArgs(
                name=layout.name,
                visibility_timeout_seconds=layout.visibility_timeout_seconds,
                message_retention_seconds=layout.message_retention_seconds,
                receive_wait_time_seconds=layout.receive_wait_time_seconds,
                sqs_managed_sse_enabled=True,
                redrive_policy=self.dead_letter.arn.apply(layout.redrive_policy),
            ),
            opts=child,
        )
        self.register_outputs(
            {
                "queueUrl": self.queue.url,
                "queueArn": self.queue.arn,
                "deadLetterQueueUrl": self.dead_letter.url,
                "deadLetterQueueArn": self.dead_letter.arn,
            }
        )


@dataclass
class JobQueuesArgs:
    job: QueueLayout
    priority: QueueLayout


class JobQueues(pulumi.ComponentResource):
    """The queue the application sends jobs to, and the priority queue nodes drain first."""

    jobs: DeadLetteredQueue
    priority: DeadLetteredQueue

    def __init__(
        self, name: str, args: JobQueuesArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("spotfleet:stacks:JobQueues", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.jobs = DeadLetteredQueue(f"{name}-jobs", DeadLetteredQueueArgs(args.job), child)
        self.priority = DeadLetteredQueue(
            f"{name}-jobs-priority", DeadLetteredQueueArgs(args.priority), child
        )
        self.register_outputs(
            {
                "jobQueueUrl": self.jobs.queue.url,
                "priorityQueueUrl": self.priority.queue.url,
                "deadLetterQueueUrl": self.jobs.dead_letter.url,
                "priorityDeadLetterQueueUrl": self.priority.dead_letter.url,
            }
        )
