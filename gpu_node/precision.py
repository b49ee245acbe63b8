"""Which device and number format a pipeline runs in: a pure choice, tested per pipeline class.

On CUDA, Stable Diffusion and SDXL run in float16 (SDXL's VAE upcasts itself where float16
would overflow, ``force_upcast`` in its config). FLUX must not: its transformer overflows in
float16 and every image comes out black (NaN latents; diffusers issue 9096), so it runs in
bfloat16, the format it was trained and released in, which the A10G of a g5 supports. On CPU
every pipeline runs in float32: half formats are slow there and some kernels lack them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["Precision", "choose_precision"]

DtypeName = Literal["float32", "float16", "bfloat16"]

# model_index.json ``_class_name`` -> its dtype on CUDA. A class not listed takes float16.
_CUDA_DTYPES: dict[str, DtypeName] = {
    "StableDiffusionPipeline": "float16",
    "StableDiffusionXLPipeline": "float16",
    "FluxPipeline": "bfloat16",
}


@dataclass(frozen=True)
class Precision:
    device: Literal["cuda", "cpu"]
    dtype: DtypeName  # the name of the ``torch`` attribute


def choose_precision(class_name: str, *, cuda: bool) -> Precision:
    """The device and dtype to load ``class_name`` in, given whether CUDA is available."""
    if not cuda:
        return Precision(device="cpu", dtype="float32")
    return Precision(device="cuda", dtype=_CUDA_DTYPES.get(class_name, "float16"))
