"""The tiny world's clip sampler: content x semantics -> (clip, content caption, semantic), on the fly.

Content is split by item (held-out photos and procedural seeds never appear in pretraining), semantics by
the data split (held-out semantics are rendered only for the judge and for evaluation).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict

from v2l.data.content.builtin import render_builtin
from v2l.data.content.photos import photo_inputs
from v2l.data.content.procedural import procedural_inputs
from v2l.data.semantics.registry import get_semantic
from v2l.data.semantics.split import semantic_tiers
from v2l.video.pixels import frames_to_video


class WorldConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # Held-out content for every bar (the feasibility trial's four, all with colours the rest lacks).
    heldout_photos: tuple[str, ...] = ("coffee", "chelsea", "rocket", "grass")
    procedural_train: int = 48
    procedural_heldout: int = 8
    source_size: int = 160  # content is rendered at this size; the semantics' window looks into it
    num_frames: int = 9
    size: int = 48


@dataclass
class Content:
    id: str
    caption: str
    image: np.ndarray  # uint8 (S, S, 3)


def load_content(cfg: WorldConfig) -> dict[str, list[Content]]:
    """{"train": [...], "heldout": [...]} built from scikit-image photos and procedural scenes."""

    split: dict[str, list[Content]] = {"train": [], "heldout": []}
    for item in photo_inputs():
        name = item.name.rsplit("/", 1)[-1]
        which = "heldout" if name in cfg.heldout_photos else "train"
        split[which].append(Content(item.id_hint or name, item.caption, render_builtin(item.builtin, cfg.source_size)))
    total = cfg.procedural_train + cfg.procedural_heldout
    for i, item in enumerate(procedural_inputs(total, seed=0)):
        which = "train" if i < cfg.procedural_train else "heldout"
        split[which].append(
            Content(item.id_hint or item.name, item.caption, render_builtin(item.builtin, cfg.source_size))
        )
    return split


def semantics_for(which: str) -> list[str]:
    """Semantic names in registry order: 'train' (the hypernetwork's), 'heldout' (tier 1 + tier 2),
    'backbone' (train + tier 1: what backbone pretraining renders), 'tier1', 'tier2' or 'all'."""

    wanted = {
        "train": {"train"},
        "heldout": {"tier1", "tier2"},
        "backbone": {"train", "tier1"},
        "tier1": {"tier1"},
        "tier2": {"tier2"},
        "all": {"train", "tier1", "tier2"},
    }[which]
    return [n for n, tier in semantic_tiers().items() if tier in wanted]


class ClipSampler:
    """Random clips of (content split) x (semantic list); deterministic given its seed."""

    def __init__(self, cfg: WorldConfig, content: list[Content], semantics: list[str], seed: int = 0):
        self.cfg, self.content, self.names = cfg, content, list(semantics)
        self.semantics = [get_semantic(n) for n in self.names]
        self.rng = np.random.default_rng(seed)

    def clip(self, content_index: int, semantic_index: int, seed: int) -> torch.Tensor:
        frames, _ = self.semantics[semantic_index](
            self.content[content_index].image, seed, self.cfg.num_frames, (self.cfg.size, self.cfg.size)
        )
        return frames_to_video(frames)  # (3, F, H, W)

    def batch(self, n: int) -> tuple[torch.Tensor, list[str], torch.Tensor]:
        """clips (n, 3, F, H, W) in [-1, 1], content captions, semantic labels (n,)."""
        ci = self.rng.integers(0, len(self.content), n)
        si = self.rng.integers(0, len(self.semantics), n)
        seeds = self.rng.integers(0, 2**31 - 1, n)
        clips = torch.stack([self.clip(int(c), int(s), int(z)) for c, s, z in zip(ci, si, seeds)])
        return clips, [self.content[int(c)].caption for c in ci], torch.from_numpy(si).long()
