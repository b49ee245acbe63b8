"""What a daemon finds in its history at start that a crash left half done."""

from __future__ import annotations

from datetime import datetime

from reconciler.core.history.ledger import Ledger

__all__ = ["fail_interrupted_stack_updates"]


def fail_interrupted_stack_updates(ledger: Ledger, now: datetime) -> int:
    """Stack updates left ``planned`` by a crash: mark them failed; how many there were. The
    stack write-back compares the stack's placement with the one in force, so the next sync
    writes it again."""
    return ledger.fail_planned(
        "stack_update",
        f"interrupted: the daemon stopped during the update (found {now.isoformat()})",
    )
