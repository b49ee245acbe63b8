"""Named reads of what a run did, for the status API's lists and the embedded default's
summary: the decisions, the fleet's nodes, and the counts the summary reports."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from reconciler.core.history.ledger import Ledger

__all__ = [
    "DecisionCounts",
    "StoredDecision",
    "StoredNode",
    "decision_counts",
    "latest_decisions",
    "nodes_of",
    "warned_node_count",
]


@dataclass(frozen=True, slots=True)
class StoredDecision:
    decision_id: str
    ts: datetime
    fleet: str
    mode: str
    placement: dict[str, Any] | None  # the stack config's JSON, as written
    desired_nodes: int | None
    changed: bool
    applied: bool
    reason: str
    reasons: dict[str, str] | None  # pool -> the planner's verdict; None when none was kept


@dataclass(frozen=True, slots=True)
class StoredNode:
    instance_id: str
    fleet: str
    pool: str | None
    lifecycle: str | None
    state: str | None
    launched_at: datetime | None
    terminated_at: datetime | None
    observed_at: datetime | None


@dataclass(frozen=True, slots=True)
class DecisionCounts:
    total: int
    applied: int
    without_reason: int  # a decision must always say why: this should stay 0


def latest_decisions(ledger: Ledger, fleet: str | None, limit: int) -> list[StoredDecision]:
    """The latest ``limit`` decisions (of ``fleet``, or every fleet's), newest first."""
    rows = ledger._read_rows(
        "SELECT decision_id, ts, fleet, mode, placement, desired_nodes, changed, applied, "
        "reason, reasons FROM decisions WHERE (? IS NULL OR fleet = ?) "
        "ORDER BY ts DESC, decision_id LIMIT ?",
        [fleet, fleet, limit],
    )
    return [_decision(*row) for row in rows]


def _decision(
    decision_id: str,
    ts: datetime,
    fleet: str,
    mode: str,
    placement: str | None,
    desired: int | None,
    changed: bool,
    applied: bool,
    reason: str,
    reasons: str | None,
) -> StoredDecision:
    return StoredDecision(
        decision_id=decision_id,
        ts=ts,
        fleet=fleet,
        mode=mode,
        placement=json.loads(placement) if placement else None,
        desired_nodes=desired,
        changed=changed,
        applied=applied,
        reason=reason,
        reasons=json.loads(reasons) if reasons else None,
    )


def nodes_of(ledger: Ledger, fleet: str | None, *, include_terminated: bool) -> list[StoredNode]:
    """The nodes (of ``fleet``, or every fleet's) by instance id; terminated ones if asked."""
    rows = ledger._read_rows(
        "SELECT instance_id, fleet, pool, lifecycle, state, launched_at, terminated_at, "
        "observed_at FROM nodes WHERE (? IS NULL OR fleet = ?) "
        "AND (? OR state != 'terminated') ORDER BY instance_id",
        [fleet, fleet, include_terminated],
    )
    return [StoredNode(*row) for row in rows]


def warned_node_count(ledger: Ledger) -> int:
    """Spot interruption warnings about a node (not account-wide events)."""
    [(warnings,)] = ledger._rows(
        "SELECT count(*) FROM interruption_events WHERE kind = 'spot_interruption_warning' "
        "AND instance_id IS NOT NULL"
    )
    return int(warnings)


def decision_counts(ledger: Ledger) -> DecisionCounts:
    [(total, applied, unexplained)] = ledger._rows(
        "SELECT count(*), count(*) FILTER (WHERE applied), "
        "count(*) FILTER (WHERE reason IS NULL OR trim(reason) = '') FROM decisions"
    )
    return DecisionCounts(int(total), int(applied), int(unexplained))
