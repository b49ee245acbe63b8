"""A real node process with a stepping fake backend: ``python -m tests.gpu_node.fake_node``.

Everything but the model is the production path (``run_node``: settings from the
environment, IMDS watcher, drain, signals, health API). ``FAKE_STEP_SECONDS`` sets its pace.
"""

from __future__ import annotations

import os
import sys

from gpu_node.logsafety import configure_logging
from gpu_node.node import run_node
from gpu_node.settings import load_settings
from tests.gpu_node.fakes import SteppingBackend


def main() -> int:
    configure_logging()  # the node's own: SPOTFLEET_LOG_LEVEL, credentials redacted
    backend = SteppingBackend(step_seconds=float(os.environ.get("FAKE_STEP_SECONDS", "0")))
    return run_node(load_settings(), backend=backend)


if __name__ == "__main__":
    sys.exit(main())
