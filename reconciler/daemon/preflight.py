"""What a mode needs from the host before the daemon may switch to it.

Checked when the mode is asked for (at start, and on ``POST /mode``), not when the next
reconcile finds out: ``pulumi`` runs the Pulumi CLI, which must be on ``PATH``.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable

from reconciler.core.settings import Mode

__all__ = ["mode_unavailable"]


def mode_unavailable(
    mode: Mode, *, which: Callable[[str], str | None] = shutil.which
) -> str | None:
    """Why ``mode`` cannot run on this host, or None when it can."""
    if mode == "pulumi" and which("pulumi") is None:
        return (
            "mode 'pulumi' needs the Pulumi CLI, and there is no 'pulumi' on this daemon's "
            "PATH: install it (https://www.pulumi.com/docs/install/) or put it on PATH"
        )
    return None
