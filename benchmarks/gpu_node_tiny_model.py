"""Images per minute with the tiny model through the real backend on CPU.

Builds the tiny model in a temporary directory, loads it with ``DiffusersBackend`` and
generates back to back. Run: ``.venv/bin/python -m benchmarks.gpu_node_tiny_model [IMAGES]``.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from gpu_node.backends import load_backend
from gpu_node.jobs import Job
from gpu_node.tinymodel import make_tiny_model


def measure(model_dir: Path, *, threads: int, size: int, steps: int, images: int) -> float:
    import torch

    backend = load_backend(model_dir=model_dir, model_name="tiny-sd", cpu_threads=threads)
    torch.set_num_threads(threads)
    job = Job(job_id="warm", prompt="a cat", width=size, height=size, steps=steps, seed=0)
    backend.generate(job, lambda done, total: None)  # first call pays one-off costs
    started = time.perf_counter()
    for n in range(images):
        job = Job(job_id=f"b{n}", prompt="a cat", width=size, height=size, steps=steps, seed=n)
        backend.generate(job, lambda done, total: None)
    return images / (time.perf_counter() - started) * 60


def main(images: int = 30) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = make_tiny_model(Path(tmp) / "tiny-sd")
        for threads, size, steps in ((1, 64, 4), (2, 64, 4), (1, 32, 2)):
            rate = measure(model_dir, threads=threads, size=size, steps=steps, images=images)
            print(
                f"tiny model, {threads} CPU thread(s), {size}x{size}, {steps} steps: "
                f"{rate:.0f} images/min"
            )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 30)
