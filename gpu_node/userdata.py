"""The user data every node's launch template runs: install the generation service, start it.

It carries no settings and no secrets: the node reads its settings from its own instance tags
(the Auto Scaling group propagates them; the launch template turns on tags in instance
metadata), so the script is the same for every fleet and a new queue URL never needs a new
launch template version.
"""

from __future__ import annotations

import shlex

__all__ = ["NODE_SETTING_TAGS", "render_user_data"]

# Instance tag key = environment variable name of the service (see gpu_node settings).
NODE_SETTING_TAGS = (
    "SPOTFLEET_FLEET",
    "SPOTFLEET_QUEUE_URL",
    "SPOTFLEET_PRIORITY_QUEUE_URL",
    "SPOTFLEET_RESULTS_BUCKET",
    "SPOTFLEET_EVENTS_TOPIC_ARN",
    "SPOTFLEET_MODEL_DIR",
    "SPOTFLEET_MODEL_S3_URI",
    "SPOTFLEET_LIFECYCLE_HOOK",
    "SPOTFLEET_ASG_NAME",
    # Appended after the launch template first shipped: append only, never reorder.
    "SPOTFLEET_PORT",
    "SPOTFLEET_CPU_THREADS",
    "SPOTFLEET_MODEL_NAME",
    "SPOTFLEET_DRAIN_DEADLINE_SECONDS",
)

_TEMPLATE = r"""#!/bin/bash
# spotfleet node bootstrap: install the generation service and run it under systemd.
# Settings come from this instance's tags through IMDSv2; nothing secret is written here.
set -euo pipefail

imds=http://169.254.169.254
token=$(curl -sf -X PUT "$imds/latest/api/token" -H "X-aws-ec2-metadata-token-ttl-seconds: 300")
metadata() {
  curl -sf -H "X-aws-ec2-metadata-token: $token" "$imds/latest/meta-data/$1" || true
}

install -d -m 0755 /etc/spotfleet /opt/spotfleet
env_file=/etc/spotfleet/node.env
umask 022
printf 'AWS_DEFAULT_REGION=%s\n' "$(metadata placement/region)" > "$env_file"
for key in __TAGS__; do
  value=$(metadata "tags/instance/$key")
  if [ -n "$value" ]; then
    printf '%s=%s\n' "$key" "$value" >> "$env_file"
  fi
done

python3 -m venv /opt/spotfleet/venv
/opt/spotfleet/venv/bin/pip install --quiet __PACKAGE__

cat > /etc/systemd/system/spotfleet-node.service <<'UNIT'
[Unit]
Description=spotfleet generation service
After=network-online.target
Wants=network-online.target

[Service]
EnvironmentFile=/etc/spotfleet/node.env
ExecStart=/opt/spotfleet/venv/bin/python -m gpu_node run
Restart=on-failure
RestartSec=5
KillSignal=SIGTERM
# The spot notice gives two minutes; the service drains within that.
TimeoutStopSec=120

[Install]
WantedBy=multi-user.target
UNIT

systemctl daemon-reload
systemctl enable --now spotfleet-node.service
"""


def render_user_data(*, package: str = "spotfleet[node]") -> str:
    """The bootstrap script; ``package`` is what pip installs (a name, a pin, a wheel URL)."""
    if not package.strip():
        raise ValueError("package must name what pip installs, e.g. 'spotfleet[node]==0.1.0'")
    return _TEMPLATE.replace("__TAGS__", " ".join(NODE_SETTING_TAGS)).replace(
        "__PACKAGE__", shlex.quote(package)
    )
