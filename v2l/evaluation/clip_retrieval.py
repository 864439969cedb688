"""The tiny CLIP's bar: caption-to-frame retrieval among the distinct captions of some content."""

from __future__ import annotations

import numpy as np
import torch

from v2l.evaluation.clip_model import TinyClip
from v2l.world.sampler import ClipSampler, WorldConfig, semantics_for


@torch.no_grad()
def retrieval_top1(
    clip: TinyClip, content, world: WorldConfig, per_item: int, seed: int, semantics: list[str] | None = None
) -> dict:
    """Caption -> frame retrieval among the distinct captions of `content`: top-1 over every frame. The frames are
    of random semantics of `semantics` (default: every registered one; a card's `semantics_seen` reproduces it)."""
    sampler = ClipSampler(world, content, list(semantics or semantics_for("all")), seed=seed)
    rng = np.random.default_rng(seed)
    captions = sorted({c.caption for c in content})
    frames, owners = [], []
    for ci, item in enumerate(content):
        for _ in range(per_item):
            clip_ = sampler.clip(ci, int(rng.integers(len(sampler.names))), int(rng.integers(2**31 - 1)))
            frames.append(clip_[:, int(rng.integers(clip_.shape[1]))])
            owners.append(captions.index(item.caption))
    image = clip.encode_image(torch.stack(frames))
    text = clip.encode_text(captions)
    sims = image @ text.T  # (frames, captions)
    owners_t = torch.tensor(owners)
    # For each caption, is its best frame one of its own? And for each frame, is its best caption its own?
    text_to_frame = float(np.mean([owners[int(sims[:, j].argmax())] == j for j in range(len(captions))]))
    frame_to_text = float((sims.argmax(-1) == owners_t).float().mean())
    return {
        "caption_to_frame_top1": text_to_frame,
        "frame_to_caption_top1": frame_to_text,
        "captions": len(captions),
        "frames": len(frames),
    }
