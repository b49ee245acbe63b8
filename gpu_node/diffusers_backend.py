"""The diffusers backend: one pipeline loaded from the local model directory.

The device and dtype come from ``gpu_node.precision`` (FLUX in bfloat16, SD and SDXL in float16
on CUDA; float32 on CPU), with a fixed number of CPU threads (on small models one thread is far
faster than two on a shared machine: no thread handoff per tiny op).
"""

from __future__ import annotations

import inspect
import logging
from pathlib import Path
from typing import Any

import diffusers
import torch

from gpu_node.backend import OnStep, encode_png
from gpu_node.errors import GenerationError, JobCancelled, ModelError
from gpu_node.jobs import Job
from gpu_node.precision import choose_precision

__all__ = ["DiffusersBackend"]

log = logging.getLogger(__name__)


class DiffusersBackend:
    def __init__(self, *, pipeline: Any, device: str, model_name: str) -> None:
        self._pipeline = pipeline
        self._device = device
        self._model_name = model_name
        parameters = inspect.signature(pipeline.__call__).parameters
        # FLUX (dev/schnell) has no negative prompt; passing one would be an error.
        self._takes_negative = "negative_prompt" in parameters
        self._takes_step_callback = "callback_on_step_end" in parameters

    @property
    def model_name(self) -> str:
        return self._model_name

    @property
    def device(self) -> str:
        return self._device

    @classmethod
    def load(
        cls, *, model_dir: Path, class_name: str, model_name: str, cpu_threads: int
    ) -> DiffusersBackend:
        pipeline_class = getattr(diffusers, class_name)
        precision = choose_precision(class_name, cuda=torch.cuda.is_available())
        device, dtype = precision.device, getattr(torch, precision.dtype)
        if device == "cpu":
            torch.set_num_threads(cpu_threads)
        try:
            pipeline = pipeline_class.from_pretrained(str(model_dir), torch_dtype=dtype)
            pipeline = pipeline.to(device)
        except Exception as exc:  # diffusers raises many kinds; all mean "cannot load"
            raise ModelError(f"cannot load {class_name} from {model_dir}: {exc}") from exc
        pipeline.set_progress_bar_config(disable=True)
        log.info("loaded %s from %s on %s (%s)", class_name, model_dir, device, dtype)
        return cls(pipeline=pipeline, device=device, model_name=model_name)

    def generate(self, job: Job, on_step: OnStep) -> bytes:
        total = job.steps

        def step_end(
            pipe: Any, step: int, timestep: Any, tensors: dict[str, Any]
        ) -> dict[str, Any]:
            on_step(step + 1, total)  # may raise JobCancelled: stops the loop mid-image
            return tensors

        kwargs: dict[str, Any] = {
            "prompt": job.prompt,
            "width": job.width,
            "height": job.height,
            "num_inference_steps": job.steps,
            "generator": torch.Generator(device=self._device).manual_seed(job.seed),
            "output_type": "pil",
        }
        if job.guidance is not None:
            kwargs["guidance_scale"] = job.guidance
        if job.negative_prompt is not None and self._takes_negative:
            kwargs["negative_prompt"] = job.negative_prompt
        if self._takes_step_callback:
            kwargs["callback_on_step_end"] = step_end
        try:
            with torch.inference_mode():
                output = self._pipeline(**kwargs)
        except JobCancelled:
            raise
        except Exception as exc:  # a model failure: the queue's redrive retries the job
            raise GenerationError(f"{type(exc).__name__}: {exc}") from exc
        return encode_png(output.images[0])
