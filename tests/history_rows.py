"""A test's own look into the history: the code under test reads and writes it through the
named queries of ``reconciler.core.history``; a test checks what landed with plain SQL."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from reconciler.core.history.ledger import Ledger


def history_rows(
    ledger: Ledger, sql: str, params: Sequence[object] | None = None
) -> list[tuple[Any, ...]]:
    with ledger.lock:
        return ledger.history.con.execute(sql, params).fetchall()
