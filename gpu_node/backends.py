"""The factory that picks a backend for the model directory and loads it.

The pipeline is chosen by the model's own ``model_index.json`` (its ``_class_name``), never by
a flag: a fleet that ships SDXL weights runs the SDXL pipeline. The directory is checked before
torch and diffusers are imported, so a bad one fails fast and the rest of the node stays cheap.
The protocol the worker uses is ``gpu_node.backend``; it knows no implementation, this does.
"""

from __future__ import annotations

from pathlib import Path

from gpu_node.backend import Backend, pipeline_class_name

__all__ = ["load_backend"]


def load_backend(*, model_dir: Path, model_name: str, cpu_threads: int) -> Backend:
    class_name = pipeline_class_name(model_dir)  # fail on a bad directory before importing torch
    from gpu_node.diffusers_backend import DiffusersBackend

    return DiffusersBackend.load(
        model_dir=model_dir, class_name=class_name, model_name=model_name, cpu_threads=cpu_threads
    )
