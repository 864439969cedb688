"""Balanced evaluation sets of the world: a fixed number of clips of every semantic on given content, drawn
from a seed, so every model measured on one (seed, content, semantics) sees the same clips."""

from __future__ import annotations

import numpy as np
import torch

from v2l.world.sampler import ClipSampler, WorldConfig


@torch.no_grad()
def balanced_eval_set(
    cfg: WorldConfig, content, names: list[str], per_semantic: int, seed: int, with_content_ids: bool = False
):
    """per_semantic clips of every semantic on the given content: clips, labels (`names` order), captions
    (and each clip's content index, with `with_content_ids`)."""
    sampler = ClipSampler(cfg, content, names, seed=seed)
    rng = np.random.default_rng(seed)
    clips, labels, captions, content_ids = [], [], [], []
    for si in range(len(names)):
        for k in range(per_semantic):
            ci = int(rng.integers(len(content)))
            clips.append(sampler.clip(ci, si, int(rng.integers(2**31 - 1))))
            labels.append(si)
            captions.append(content[ci].caption)
            content_ids.append(ci)
    out = (torch.stack(clips), torch.tensor(labels), captions)
    return (*out, content_ids) if with_content_ids else out
