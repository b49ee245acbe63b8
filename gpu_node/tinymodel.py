"""A tiny Stable Diffusion pipeline built offline from small random configs.

Random weights, so its images are noise; what matters is that it is a real diffusers
directory (``model_index.json``, UNet, VAE, CLIP text encoder, CLIP tokenizer, scheduler) that
the real backend loads with ``from_pretrained``. Sizes follow diffusers' own fast tests.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["make_tiny_model"]


def _bytes_to_unicode() -> dict[int, str]:
    """CLIP's byte-level alphabet: every byte maps to a printable character."""
    printable = (
        list(range(ord("!"), ord("~") + 1))
        + list(range(ord("¡"), ord("¬") + 1))
        + list(range(ord("®"), ord("ÿ") + 1))
    )
    codes = printable[:]
    extra = 0
    for byte in range(256):
        if byte not in printable:
            printable.append(byte)
            codes.append(256 + extra)
            extra += 1
    return dict(zip(printable, (chr(c) for c in codes), strict=True))


def _tiny_vocab() -> tuple[dict[str, int], list[tuple[str, str]]]:
    """Every byte alone and word-final, a handful of merges, and CLIP's two special tokens."""
    alphabet = list(_bytes_to_unicode().values())
    vocab: dict[str, int] = {}
    for token in alphabet + [a + "</w>" for a in alphabet]:
        vocab[token] = len(vocab)
    merges = [("t", "h"), ("th", "e</w>"), ("a", "t</w>"), ("c", "at</w>"), ("o", "g</w>")]
    for left, right in merges:
        vocab.setdefault(left + right, len(vocab))
    vocab["<|startoftext|>"] = len(vocab)
    vocab["<|endoftext|>"] = len(vocab)
    return vocab, merges


def make_tiny_model(directory: Path, *, seed: int = 0) -> Path:
    import diffusers
    import torch
    import transformers

    # diffusers and transformers are only partly typed; build through Any.
    d: Any = diffusers
    t: Any = transformers

    torch.manual_seed(seed)
    unet = d.UNet2DConditionModel(
        block_out_channels=(4, 8),
        layers_per_block=1,
        sample_size=32,
        in_channels=4,
        out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=32,
        norm_num_groups=2,
    )
    scheduler = d.DDIMScheduler(
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        clip_sample=False,
        set_alpha_to_one=False,
        steps_offset=1,
    )
    vae = d.AutoencoderKL(
        block_out_channels=(4, 8),
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D", "DownEncoderBlock2D"),
        up_block_types=("UpDecoderBlock2D", "UpDecoderBlock2D"),
        latent_channels=4,
        norm_num_groups=2,
    )
    vocab, merges = _tiny_vocab()
    text_encoder = t.CLIPTextModel(
        t.CLIPTextConfig(
            bos_token_id=vocab["<|startoftext|>"],
            eos_token_id=vocab["<|endoftext|>"],
            pad_token_id=vocab["<|endoftext|>"],
            hidden_size=32,
            intermediate_size=37,
            layer_norm_eps=1e-05,
            num_attention_heads=4,
            num_hidden_layers=2,
            vocab_size=len(vocab),
        )
    )
    tokenizer = t.CLIPTokenizer(vocab=vocab, merges=merges, model_max_length=77)
    pipeline = d.StableDiffusionPipeline(
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        unet=unet,
        scheduler=scheduler,
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    directory.mkdir(parents=True, exist_ok=True)
    pipeline.save_pretrained(str(directory))
    return directory
