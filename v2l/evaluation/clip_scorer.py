"""CLIP scorers for CLIP-T (caption to frames) and CLIP-I (frame consistency), behind one small registry.

`clip_scorer(name, weights)` returns an object with
  - `encode_frames(frames (N, 3, H, W) in [-1, 1]) -> (N, D)` unit embeddings,
  - `encode_text(captions: list[str]) -> (N, D)` unit embeddings,
  - `score(videos (B, 3, F, H, W), captions) -> {"clip_t", "clip_i_adjacent", "clip_i_first"}`, lists of B floats.
Names: "lit" (frozen pretrained towers from their packages + the committed trained heads, v2l.evaluation.lit_clip;
`weights` may name another heads folder), "tiny" (the committed tiny-world CLIP; `weights` may name another folder
of it), or any open_clip architecture ("ViT-B-32", ...) with a local weights file. Other scorers register with
`register_clip_scorer`. No name (None): `default_clip_model()`, the first committed scorer, in order of
preference, whose card meets the CLIP bar (held-out caption-to-frame top-1 >= 0.80); the tiny CLIP if none does.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import torch
import torch.nn.functional as F

from v2l.backbones.tiny import TINY_WEIGHTS
from v2l.cards.bars import meets_bars
from v2l.errors import V2LError
from v2l.evaluation.clip_model import TinyClip
from v2l.evaluation.lit_clip import LIT_WEIGHTS, LitClip


class ClipScorer:
    """The scores, from any pair of encoders."""

    name = "clip"

    def encode_frames(self, frames: torch.Tensor) -> torch.Tensor:  # pragma: no cover - interface
        raise NotImplementedError

    def encode_text(self, captions: list[str]) -> torch.Tensor:  # pragma: no cover - interface
        raise NotImplementedError

    @torch.no_grad()
    def score(self, videos: torch.Tensor, captions: list[str]) -> dict[str, list[float]]:
        b, _, f = videos.shape[:3]
        frames = videos.permute(0, 2, 1, 3, 4).reshape(b * f, *videos.shape[1:2], *videos.shape[3:])
        img = self.encode_frames(frames).reshape(b, f, -1)
        txt = self.encode_text(list(captions))
        clip_t = (img @ txt[:, :, None]).squeeze(-1).mean(1)  # each frame against its caption
        adjacent = (img[:, 1:] * img[:, :-1]).sum(-1).mean(1)
        first = (img[:, 1:] * img[:, :1]).sum(-1).mean(1)
        return {"clip_t": clip_t.tolist(), "clip_i_adjacent": adjacent.tolist(), "clip_i_first": first.tolist()}


class TinyClipScorer(ClipScorer):
    """The tiny world's own CLIP (open_clip architecture, tiny caption vocabulary)."""

    def __init__(self, weights: str | Path | None = None):
        self.name = "tiny"
        self.model = TinyClip.load(weights or TINY_WEIGHTS / "clip")
        self.size = self.model.cfg["image_size"]

    @torch.no_grad()
    def encode_frames(self, frames: torch.Tensor) -> torch.Tensor:
        if frames.shape[-1] != self.size:
            frames = F.interpolate(frames, size=(self.size, self.size), mode="bilinear", align_corners=False)
        return self.model.encode_image(frames)

    @torch.no_grad()
    def encode_text(self, captions: list[str]) -> torch.Tensor:
        return self.model.encode_text(captions)


class LitClipScorer(ClipScorer):
    """Locked-tower CLIP: frozen EfficientNet-Lite0 and all-MiniLM-L6-v2 (from their packages), trained heads."""

    def __init__(self, weights: str | Path | None = None):
        self.name = "lit"
        self.model = LitClip.load(weights)

    @torch.no_grad()
    def encode_frames(self, frames: torch.Tensor) -> torch.Tensor:
        return self.model.encode_image(frames)

    @torch.no_grad()
    def encode_text(self, captions: list[str]) -> torch.Tensor:
        return self.model.encode_text(captions)


class OpenClipScorer(ClipScorer):
    """Any open_clip architecture with a local weights file (nothing is downloaded)."""

    def __init__(self, name: str, weights: str | Path | None):
        import open_clip

        if weights is None or not Path(weights).is_file():
            raise V2LError(
                f"--clip-model {name} needs --clip-weights FILE, a local open_clip weights file "
                f"(got {weights}); nothing is downloaded"
            )
        if name not in open_clip.list_models():
            raise V2LError(f"--clip-model {name!r} is not an open_clip architecture; see open_clip.list_models()")
        self.name = name
        self.model, _, preprocess = open_clip.create_model_and_transforms(name, pretrained=str(weights))
        self.model.eval()
        self.tokenizer = open_clip.get_tokenizer(name)
        size = self.model.visual.image_size
        self.size = tuple(size) if isinstance(size, (tuple, list)) else (size, size)
        mean = getattr(self.model.visual, "image_mean", None) or open_clip.OPENAI_DATASET_MEAN
        std = getattr(self.model.visual, "image_std", None) or open_clip.OPENAI_DATASET_STD
        self.mean, self.std = torch.tensor(mean)[:, None, None], torch.tensor(std)[:, None, None]

    @torch.no_grad()
    def encode_frames(self, frames: torch.Tensor) -> torch.Tensor:
        x = F.interpolate((frames + 1) / 2, size=self.size, mode="bicubic", align_corners=False).clamp(0, 1)
        return F.normalize(self.model.encode_image((x - self.mean) / self.std), dim=-1)

    @torch.no_grad()
    def encode_text(self, captions: list[str]) -> torch.Tensor:
        return F.normalize(self.model.encode_text(self.tokenizer(captions)), dim=-1)


_SCORERS: dict[str, Callable[[str | Path | None], ClipScorer]] = {"tiny": TinyClipScorer, "lit": LitClipScorer}


def committed_clip_cards() -> dict[str, Path]:
    """Committed scorers in order of preference -> their card: the pretrained towers first, then the tiny CLIP."""

    return {"lit": LIT_WEIGHTS / "card.json", "tiny": TINY_WEIGHTS / "clip" / "card.json"}


def default_clip_model() -> str:
    """The first committed scorer whose card meets the CLIP bar; "tiny" if none does."""
    import json

    for name, card in committed_clip_cards().items():
        if card.is_file() and meets_bars("clip", json.loads(card.read_text())["metrics"])[0]:
            return name
    return "tiny"


def register_clip_scorer(name: str, factory: Callable[[str | Path | None], ClipScorer]) -> None:
    """Make `clip_scorer(name, weights)` build `factory(weights)` (e.g. a locked-tower scorer)."""
    _SCORERS[name] = factory


def clip_scorer(name: str | None = None, weights: str | Path | None = None) -> ClipScorer:
    name = name or default_clip_model()
    if name in _SCORERS:
        return _SCORERS[name](weights)
    return OpenClipScorer(name, weights)
