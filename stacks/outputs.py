"""The names of the stack outputs, so the daemon reads them without guessing.

The stack exports ``fleets``: an object mapping each fleet's name to an object with the keys
below, and ``daemonPolicy``: the IAM policy document (JSON text) for the daemon's own role.
"""

from __future__ import annotations

from typing import Final

__all__ = ["DAEMON_POLICY", "FLEETS", "FLEET_OUTPUT_KEYS"]

FLEETS: Final = "fleets"
DAEMON_POLICY: Final = "daemonPolicy"

FLEET_OUTPUT_KEYS: Final = (
    "poolGroups",  # [{instanceType, subnetId, groupName}]: each candidate pool's spot group
    "onDemandGroupName",  # the fleet's on-demand group
    "jobQueueUrl",  # the application sends jobs here
    "priorityQueueUrl",  # jobs nodes take first
    "deadLetterQueueUrl",  # jobs that failed maxReceiveCount times or could not be parsed
    "priorityDeadLetterQueueUrl",
    "interruptionQueueUrl",  # the daemon reads interruption events here
    "jobEventsTopicArn",  # nodes publish job events; the application may subscribe
    "jobEventsQueueUrl",  # the daemon reads job events here, for the history
    "modelCacheBucket",  # upload model weights here (see modelS3Uri)
    "modelS3Uri",  # where nodes load the model from
    "resultsBucket",  # nodes write results here, under resultsPrefix
    "launchTemplateId",
    "launchTemplateVersion",  # the number the group runs
    "nodeRoleArn",
    "decisionId",  # the placement the group was built from ("" without one)
)
