"""Backends for tests: fixed images, a pace per step, a failure on request. Not the model."""

from __future__ import annotations

import io
import threading
import time

from PIL import Image

from gpu_node.backend import OnStep
from gpu_node.errors import GenerationError
from gpu_node.jobs import Job


def fixed_png(color: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), color).save(buffer, format="PNG")
    return buffer.getvalue()


class SteppingBackend:
    """Takes ``step_seconds`` per step, reports each step, fails on the prompt ``fail_prompt``."""

    def __init__(
        self,
        *,
        step_seconds: float = 0.0,
        fail_prompt: str = "please fail",
        stall: tuple[int, float] | None = None,  # (step, seconds): that one step hangs so long
    ) -> None:
        self.step_seconds = step_seconds
        self.stall = stall
        self.fail_prompt = fail_prompt
        self.png = fixed_png()
        self.started: list[str] = []
        self._lock = threading.Lock()

    @property
    def model_name(self) -> str:
        return "fake-model"

    def generate(self, job: Job, on_step: OnStep) -> bytes:
        with self._lock:
            self.started.append(job.job_id)
        for step in range(1, job.steps + 1):
            if self.stall and self.stall[0] == step:
                time.sleep(self.stall[1])
            elif self.step_seconds:
                time.sleep(self.step_seconds)
            if job.prompt == self.fail_prompt:
                raise GenerationError("the fake model failed as asked")
            on_step(step, job.steps)
        return self.png
