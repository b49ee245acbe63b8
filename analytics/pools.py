"""Pool names: one spot capacity pool is ``region/zone/instance_type``."""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Pool", "region_code", "region_of_zone", "region_of_zone_id"]

_ZONE_ID = re.compile(r"^([a-z]+\d+)-az\d+$")
# A zone name is its region (letters and dashes, then the region's number) and then either the
# zone's letter (us-east-1a) or a dash and the Local Zone or Wavelength zone's own name
# (us-west-2-lax-1a, us-east-1-wl1-bos-wlz-1): the region is always what precedes.
_ZONE_NAME = re.compile(r"^([a-z]{2}(?:-[a-z]+)+-\d+)(?:[a-z]|-[a-z0-9]+(?:-[a-z0-9]+)*)$")

# Zone IDs (use1-az1) name a region by a short code; the public price archives use them.
_REGION_CODES = {
    "use1": "us-east-1",
    "use2": "us-east-2",
    "usw1": "us-west-1",
    "usw2": "us-west-2",
    "cac1": "ca-central-1",
    "caw1": "ca-west-1",
    "sae1": "sa-east-1",
    "euw1": "eu-west-1",
    "euw2": "eu-west-2",
    "euw3": "eu-west-3",
    "euc1": "eu-central-1",
    "euc2": "eu-central-2",
    "eun1": "eu-north-1",
    "eus1": "eu-south-1",
    "eus2": "eu-south-2",
    "apne1": "ap-northeast-1",
    "apne2": "ap-northeast-2",
    "apne3": "ap-northeast-3",
    "apse1": "ap-southeast-1",
    "apse2": "ap-southeast-2",
    "apse3": "ap-southeast-3",
    "apse4": "ap-southeast-4",
    "aps1": "ap-south-1",
    "aps2": "ap-south-2",
    "ape1": "ap-east-1",
    "mes1": "me-south-1",
    "mec1": "me-central-1",
    "afs1": "af-south-1",
    "ilc1": "il-central-1",
    "usge1": "us-gov-east-1",
    "usgw1": "us-gov-west-1",
}


def region_of_zone(zone: str) -> str:
    """The region a zone name is in, for every kind of AWS zone.

    ``us-east-1a`` → ``us-east-1``; the Local Zone ``us-west-2-lax-1a`` → ``us-west-2``; the
    Wavelength zone ``us-east-1-wl1-bos-wlz-1`` → ``us-east-1``.
    """
    match = _ZONE_NAME.match(zone)
    if not match:
        raise ValueError(
            f"{zone!r} is not an availability zone name (expected e.g. us-east-1a or "
            "the Local Zone us-west-2-lax-1a)"
        )
    return match.group(1)


def region_of_zone_id(zone_id: str) -> str:
    """``use1-az1`` → ``us-east-1``."""
    match = _ZONE_ID.match(zone_id)
    if not match or match.group(1) not in _REGION_CODES:
        raise ValueError(
            f"{zone_id!r} is not a known availability zone ID (expected e.g. use1-az1)"
        )
    return _REGION_CODES[match.group(1)]


def region_code(region: str) -> str:
    """``us-east-1`` → ``use1``, the short code zone IDs start with."""
    for code, name in _REGION_CODES.items():
        if name == region:
            return code
    raise ValueError(f"{region!r} is not a region with a known zone ID code (e.g. us-east-1)")


@dataclass(frozen=True, order=True, slots=True)
class Pool:
    region: str
    zone: str
    instance_type: str

    @classmethod
    def parse(cls, name: str) -> Pool:
        parts = name.split("/")
        if len(parts) != 3 or not all(parts):
            raise ValueError(f"{name!r} is not a pool name (expected region/zone/instance_type)")
        return cls(*parts)

    @classmethod
    def in_zone(cls, zone: str, instance_type: str) -> Pool:
        return cls(region_of_zone(zone), zone, instance_type)

    @property
    def name(self) -> str:
        """``region/zone/instance_type``, as the history and the planner name it."""
        return f"{self.region}/{self.zone}/{self.instance_type}"

    def __str__(self) -> str:
        return self.name
