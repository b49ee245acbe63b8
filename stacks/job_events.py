"""The SNS topic nodes publish job events to, and the queue the daemon reads them from."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from stacks.layout import QueueLayout
from stacks.policies import queue_policy_allowing_topic
from stacks.queues import DeadLetteredQueue, DeadLetteredQueueArgs

__all__ = ["SNS_MANAGED_KEY", "JobEvents", "JobEventsArgs"]

SNS_MANAGED_KEY = "alias/aws/sns"


@dataclass
class JobEventsArgs:
    topic_name: str
    queue: QueueLayout


class JobEvents(pulumi.ComponentResource):
    """Job events (started, progress, completed, failed, released) fan out through the topic;
    the daemon's subscription keeps them for the history, and the application can add its own.
    """

    topic: aws.sns.Topic
    history: DeadLetteredQueue
    subscription: aws.sns.TopicSubscription

    def __init__(
        self, name: str, args: JobEventsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("spotfleet:stacks:JobEvents", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.topic = aws.sns.Topic(
            name,
            aws.sns.TopicArgs(
                name=args.topic_name,
                # The AWS-managed key: its key policy already lets this account's principals
                # use it through SNS, and delivery to an SSE-SQS queue needs no key grant.
                kms_master_key_id=SNS_MANAGED_KEY,
            ),
            opts=child,
        )
        self.history = DeadLetteredQueue(
            f"{name}-history", DeadLetteredQueueArgs(args.queue), child
        )
        queue = self.history.queue
        policy = aws.sqs.QueuePolicy(
            f"{name}-history",
            aws.sqs.QueuePolicyArgs(
                queue_url=queue.url,
                policy=pulumi.Output.all(queue.arn, self.topic.arn).apply(
                    lambda arns: json.dumps(queue_policy_allowing_topic(arns[0], arns[1]))
                ),
            ),
            opts=child,
        )
        # Subscribed after the policy exists, or SNS's first deliveries would be refused.
        self.subscription = aws.sns.TopicSubscription(
            f"{name}-history",
            aws.sns.TopicSubscriptionArgs(
                topic=self.topic.arn,
                protocol="sqs",
                endpoint=queue.arn,
                # The daemon reads the event JSON itself, not SNS's envelope around it.
                raw_message_delivery=True,
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[policy]),
        )
        self.register_outputs({"topicArn": self.topic.arn, "queueUrl": queue.url})
