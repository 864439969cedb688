"""One hypernetwork pass per reference video -> its LoRA, written in the compact or a standard format.

`load_reference` is the one way a reference clip reaches the hypernetwork (predict, generate, library
builds, evaluation), and `stored_lora` is the one LoRA a reference gives: rounded as the compact file
stores it, so `generate --reference` and `generate --lora <predict's file>` apply the same numbers.
"""

from __future__ import annotations

from pathlib import Path

import torch

from v2l.lora.files import FORMATS, CompactLoRA, compact_metadata, save_compact, save_standard, standard_pairs
from v2l.video.clips import load_video
from v2l.video.io import file_sha256
from v2l.video.timing import ReferenceSampling

# The compact file's dtype (its "< 50 KB per condition" size); every path rounds through it.
STORED_DTYPE = torch.bfloat16


def load_reference(model, path: str | Path, sampling: ReferenceSampling | None = None) -> torch.Tensor:
    """The reference clip as (3, F, H, W) in [-1, 1]: the preset's frame count at its fps (unless `sampling`
    says otherwise), taken from a window of the clip by timestamps (see `v2l.video.timing`), then normalised
    like targets at the preset's resolution. What was taken is warned about when it is not the whole clip."""
    spec = model.backbone.spec
    return load_video(
        path, num_frames=spec.num_frames, height=spec.height, width=spec.width, fps=spec.fps, sampling=sampling
    )


@torch.no_grad()
def predict_lora(
    model, reference: str | Path, scale: float | None = None, sampling: ReferenceSampling | None = None
) -> CompactLoRA:
    """The hypernetwork's LoRA for one reference, in full precision (see `stored_lora` for the one to apply)."""
    frames = load_reference(model, reference, sampling)
    A_pred, B_pred = model.predict_factors(frames[None])
    return CompactLoRA(A_pred[0], B_pred[0], compact_metadata(model, file_sha256(reference), scale))


def as_stored(lora: CompactLoRA) -> CompactLoRA:
    """The LoRA exactly as `load_compact` reads it back from the compact file `write_lora` writes (fp32 values)."""
    return CompactLoRA(lora.A_pred.to(STORED_DTYPE).float(), lora.B_pred.to(STORED_DTYPE).float(), lora.metadata)


def stored_lora(
    model, reference: str | Path, scale: float | None = None, sampling: ReferenceSampling | None = None
) -> CompactLoRA:
    """The one LoRA a reference gives: `predict_lora` rounded as its compact file stores it."""
    return as_stored(predict_lora(model, reference, scale, sampling))


def write_lora(
    path: str | Path, lora: CompactLoRA, model, fmt: str = "compact", dtype: torch.dtype | None = None
) -> Path:
    """compact: bf16 by default (its size claim); standard exports: fp32 by default (exact)."""
    if fmt == "compact":
        return save_compact(path, lora.A_pred, lora.B_pred, lora.metadata, dtype or STORED_DTYPE)
    if fmt in ("diffusers", "kohya"):
        # Round through the compact dtype first, so every format encodes the same LoRA.
        return save_standard(path, standard_pairs(as_stored(lora), model), fmt, lora.metadata, dtype or torch.float32)
    raise ValueError(f"unknown LoRA format {fmt!r}; choose one of {', '.join(FORMATS)}")
