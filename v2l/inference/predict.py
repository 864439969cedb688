"""One hypernetwork pass per reference video -> its LoRA, written in the compact or a standard format."""

from __future__ import annotations

from pathlib import Path

import torch

from v2l.lora.files import (CompactLoRA, FORMATS, compact_metadata, save_compact, save_standard, standard_pairs)
from v2l.video.io import file_sha256, load_video


def load_reference(model, path: str | Path) -> torch.Tensor:
    """The full reference clip, normalised like targets, at the preset's frame count and resolution."""
    spec = model.backbone.spec
    return load_video(path, num_frames=spec.num_frames, height=spec.height, width=spec.width)


@torch.no_grad()
def predict_lora(model, reference: str | Path, scale: float | None = None) -> CompactLoRA:
    frames = load_reference(model, reference)
    A_pred, B_pred = model.predict_factors(frames[None])
    return CompactLoRA(A_pred[0], B_pred[0], compact_metadata(model, file_sha256(reference), scale))


def write_lora(path: str | Path, lora: CompactLoRA, model, fmt: str = "compact",
               dtype: torch.dtype | None = None) -> Path:
    """compact: bf16 by default (its size claim); standard exports: fp32 by default (exact)."""
    if fmt == "compact":
        return save_compact(path, lora.A_pred, lora.B_pred, lora.metadata, dtype or torch.bfloat16)
    if fmt in ("diffusers", "kohya"):
        # Round through the compact dtype first, so every format encodes the same LoRA.
        stored = CompactLoRA(lora.A_pred.to(torch.bfloat16).float(), lora.B_pred.to(torch.bfloat16).float(),
                             lora.metadata)
        return save_standard(path, standard_pairs(stored, model), fmt, lora.metadata, dtype or torch.float32)
    raise ValueError(f"unknown LoRA format {fmt!r}; choose one of {', '.join(FORMATS)}")
