"""A node process with the fixed-image fake backend, for the throughput benchmark only.

``python -m benchmarks.gpu_node_fake_node``: settings from the environment, like ``run``.
"""

from __future__ import annotations

import logging
import sys

from benchmarks.gpu_node_support import FixedImageFakeBackend
from gpu_node.node import run_node
from gpu_node.settings import load_settings

if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    sys.exit(run_node(load_settings(), backend=FixedImageFakeBackend()))
