"""The dtype each pipeline class is loaded in (FLUX in float16 makes black images: diffusers
issue 9096, https://github.com/huggingface/diffusers/issues/9096)."""

from __future__ import annotations

import pytest
import torch

from gpu_node.backend import PIPELINES
from gpu_node.precision import choose_precision


@pytest.mark.parametrize(
    ("class_name", "dtype"),
    [
        ("StableDiffusionPipeline", "float16"),
        ("StableDiffusionXLPipeline", "float16"),
        ("FluxPipeline", "bfloat16"),
    ],
)
def test_on_cuda_flux_runs_in_bfloat16_and_stable_diffusion_in_float16(
    class_name: str, dtype: str
) -> None:
    precision = choose_precision(class_name, cuda=True)
    assert (precision.device, precision.dtype) == ("cuda", dtype)


@pytest.mark.parametrize("class_name", sorted(PIPELINES))
def test_on_cpu_every_pipeline_runs_in_float32(class_name: str) -> None:
    precision = choose_precision(class_name, cuda=False)
    assert (precision.device, precision.dtype) == ("cpu", "float32")


@pytest.mark.parametrize("class_name", sorted(PIPELINES))
def test_every_supported_pipeline_gets_a_dtype_torch_has(class_name: str) -> None:
    for cuda in (True, False):
        assert isinstance(
            getattr(torch, choose_precision(class_name, cuda=cuda).dtype), torch.dtype
        )
