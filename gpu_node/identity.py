"""Who this node is: instance id and type, zone, region, and the pool they make.

Each field comes from its setting when set (local runs), else from IMDS. When IMDS cannot be
reached and the setting is missing, the node runs with a local identity rather than refuse
to work: that is a developer's machine, not a spot node.
"""

from __future__ import annotations

import logging
import socket
from dataclasses import dataclass

from gpu_node.errors import MetadataError
from gpu_node.imds import ImdsClient
from gpu_node.settings import NodeSettings

__all__ = ["NodeIdentity", "resolve_identity"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class NodeIdentity:
    instance_id: str
    instance_type: str
    availability_zone: str
    region: str

    @property
    def pool(self) -> str:
        """The capacity pool, written as the design's contract: ``region/zone/type``."""
        return f"{self.region}/{self.availability_zone}/{self.instance_type}"


def resolve_identity(settings: NodeSettings, imds: ImdsClient) -> NodeIdentity:
    reachable = True

    def field(value: str | None, path: str, local: str) -> str:
        nonlocal reachable
        if value:
            return value
        if not reachable:  # one timeout is enough to know; do not pay it four times
            return local
        try:
            found = imds.get(path)
        except MetadataError as exc:
            log.warning("no %s from IMDS (%s); using %r", path, exc, local)
            reachable = False
            return local
        return found or local

    instance_id = field(
        settings.instance_id, "meta-data/instance-id", f"local-{socket.gethostname()}"
    )
    instance_type = field(settings.instance_type, "meta-data/instance-type", "local")
    zone = field(settings.availability_zone, "meta-data/placement/availability-zone", "local")
    # A zone name is its region plus one letter: the best guess when IMDS has gone away.
    region = field(
        settings.region, "meta-data/placement/region", zone[:-1] if zone != "local" else "local"
    )
    return NodeIdentity(
        instance_id=instance_id, instance_type=instance_type, availability_zone=zone, region=region
    )
