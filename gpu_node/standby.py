"""A node started ahead of its instance: it loads the model, then waits to be told who it is.

The embedded default plays a launch's cold start in market time (minutes), while starting a
Python process with torch takes seconds of wall time, which at the demo's speed is most of an
hour of market. So it keeps a few node processes warm: each has loaded its model and waits
for its identity file (``SPOTFLEET_STANDBY_FILE``), a JSON object of ``SPOTFLEET_*``
settings (its instance metadata URL, above all), written whole by a rename when an instance
launches. Only then does it start serving, as the instance it has become.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

from gpu_node.errors import NodeError

__all__ = ["wait_for_identity", "waiting_marker"]


def waiting_marker(path: Path) -> Path:
    """Touched once the model is loaded: the process is ready to become an instance."""
    return path.with_name(path.name + ".waiting")


def wait_for_identity(
    path: Path,
    *,
    poll_s: float = 0.05,
    stop: Callable[[], bool] = lambda: False,
) -> dict[str, str]:
    """The settings in ``path`` once it exists; raises ``NodeError`` when they are not
    ``SPOTFLEET_*`` strings. ``stop``: give up waiting (returns {})."""
    while not path.exists():
        if stop():
            return {}
        time.sleep(poll_s)
    try:
        raw = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise NodeError(f"standby identity {path} cannot be read: {exc}") from exc
    if not isinstance(raw, dict) or not all(
        isinstance(k, str) and k.startswith("SPOTFLEET_") and isinstance(v, str)
        for k, v in raw.items()
    ):
        raise NodeError(
            f"standby identity {path} must be a JSON object of SPOTFLEET_* settings (strings)"
        )
    return dict(raw)
