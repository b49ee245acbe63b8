"""A node process with the fixed-image fake backend, for the throughput benchmark only.

``python -m benchmarks.gpu_node_fake_node``: settings from the environment, like ``run``;
``BENCH_STEP_SECONDS`` paces the fake model's steps (default 0).
"""

from __future__ import annotations

import logging
import os
import sys

from benchmarks.gpu_node_support import FixedImageFakeBackend
from gpu_node.node import run_node
from gpu_node.settings import load_settings

if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    step_seconds = float(os.environ.get("BENCH_STEP_SECONDS", "0"))
    sys.exit(run_node(load_settings(), backend=FixedImageFakeBackend(step_seconds=step_seconds)))
