"""What the worker needs from a model, and the helpers every implementation uses.

The protocol (``Backend``), the step callback, the pipelines a model directory may declare and
the PNG encoding. It knows no implementation: ``gpu_node.backends`` picks and loads one, so
importing this module never imports torch or diffusers.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from gpu_node.errors import ModelError, UnsupportedModelError
from gpu_node.jobs import Job

__all__ = [
    "PIPELINES",
    "Backend",
    "OnStep",
    "encode_png",
    "pipeline_class_name",
]

# Called after each denoising step with (steps done, total steps). It may raise
# JobCancelled to stop the generation: that is how the drain takes a job back.
OnStep = Callable[[int, int], None]

# model_index.json ``_class_name`` -> the family we run it as.
PIPELINES = {
    "StableDiffusionPipeline": "stable-diffusion",
    "StableDiffusionXLPipeline": "stable-diffusion-xl",
    "FluxPipeline": "flux",
}


class Backend(Protocol):
    @property
    def model_name(self) -> str: ...

    def generate(self, job: Job, on_step: OnStep) -> bytes:
        """The PNG for ``job``; GenerationError on a model failure, JobCancelled if stopped."""
        ...


def pipeline_class_name(model_dir: Path) -> str:
    """The supported pipeline class the model directory declares, or a clear error."""
    index = model_dir / "model_index.json"
    try:
        declared: Any = json.loads(index.read_text())
    except FileNotFoundError as exc:
        raise ModelError(f"{index} is missing: not a diffusers model directory") from exc
    except (OSError, json.JSONDecodeError) as exc:
        raise ModelError(f"{index} is unreadable: {exc}") from exc
    name = declared.get("_class_name") if isinstance(declared, dict) else None
    if name not in PIPELINES:
        raise UnsupportedModelError(
            f"{index} declares {name!r}; supported: {', '.join(sorted(PIPELINES))}"
        )
    return str(name)


def encode_png(image: Any) -> bytes:
    """A PIL image as PNG bytes; PIL writes no timestamp, so the same pixels give the same bytes."""
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
