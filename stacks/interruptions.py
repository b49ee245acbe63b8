"""The interruption-event queue and the EventBridge rules that feed it."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from stacks.layout import QueueLayout, RuleLayout
from stacks.policies import queue_policy_allowing_rules
from stacks.queues import DeadLetteredQueue, DeadLetteredQueueArgs

__all__ = ["InterruptionEvents", "InterruptionEventsArgs"]


@dataclass
class InterruptionEventsArgs:
    queue: QueueLayout
    rules: Sequence[RuleLayout]


class InterruptionEvents(pulumi.ComponentResource):
    """Spot interruption warnings, rebalance recommendations, state changes and scheduled
    health events, delivered to one queue the daemon consumes; only these rules may send."""

    events: DeadLetteredQueue
    rules: dict[str, aws.cloudwatch.EventRule]
    targets: dict[str, aws.cloudwatch.EventTarget]

    def __init__(
        self,
        name: str,
        args: InterruptionEventsArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("spotfleet:stacks:InterruptionEvents", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.events = DeadLetteredQueue(name, DeadLetteredQueueArgs(args.queue), child)
        queue = self.events.queue
        self.rules = {}
        self.targets = {}
        for rule in args.rules:
            self.rules[rule.kind] = aws.cloudwatch.EventRule(
                f"{name}-{rule.kind}",
                aws.cloudwatch.EventRuleArgs(
                    name=rule.name,
                    description=f"spotfleet: {rule.kind} events to {args.queue.name}",
                    event_pattern=rule.event_pattern_json,
                ),
                opts=child,
            )
            self.targets[rule.kind] = aws.cloudwatch.EventTarget(
                f"{name}-{rule.kind}",
                aws.cloudwatch.EventTargetArgs(
                    rule=self.rules[rule.kind].name,
                    arn=queue.arn,
                    target_id="interruption-queue",
                ),
                opts=child,
            )
        rule_arns = [rule.arn for rule in self.rules.values()]
        aws.sqs.QueuePolicy(
            name,
            aws.sqs.QueuePolicyArgs(
                queue_url=queue.url,
                policy=pulumi.Output.all(queue.arn, *rule_arns).apply(
                    lambda arns: json.dumps(queue_policy_allowing_rules(arns[0], arns[1:]))
                ),
            ),
            opts=child,
        )
        self.register_outputs({"queueUrl": queue.url, "queueArn": queue.arn})
