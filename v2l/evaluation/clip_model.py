"""The tiny world's CLIP: an open_clip `CLIP` architecture over 48x48 frames, with the tiny caption tokenizer.

open_clip's real BPE vocabulary would put 6 M of its 8 M parameters into the token table; the tiny world's
captions use the tiny T5 vocabulary, so the text tower embeds that (a few hundred ids) and pools the last
position (its causal attention has read the whole caption). Real CLIP weights run by configuration instead.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from v2l.backbones.tiny import TinySpec
from v2l.saved_model import SavedModel

DEFAULT_CFG = dict(
    embed_dim=64,
    image_size=48,
    vision_layers=4,
    vision_width=128,
    patch_size=8,
    text_layers=4,
    text_width=128,
    text_heads=4,
    context_length=16,
)


class TinyClip(SavedModel, torch.nn.Module):
    WHAT = "tiny CLIP"
    FIX = "train one with `v2l pretrain clip`"

    def __init__(self, cfg: dict | None = None):
        super().__init__()
        import open_clip

        self.cfg = {**DEFAULT_CFG, **(cfg or {})}
        c = self.cfg
        self.tokenizer = TinySpec().build_tokenizer()
        self.model = open_clip.CLIP(
            embed_dim=c["embed_dim"],
            vision_cfg=dict(
                image_size=c["image_size"],
                layers=c["vision_layers"],
                width=c["vision_width"],
                patch_size=c["patch_size"],
                head_width=32,
            ),
            text_cfg=dict(
                context_length=c["context_length"],
                vocab_size=len(self.tokenizer),
                width=c["text_width"],
                heads=c["text_heads"],
                layers=c["text_layers"],
                pool_type="last",
            ),
        )

    def tokenize(self, captions: list[str]) -> torch.Tensor:
        return self.tokenizer(
            captions, padding="max_length", max_length=self.cfg["context_length"], truncation=True, return_tensors="pt"
        ).input_ids

    def encode_image(self, frames: torch.Tensor) -> torch.Tensor:
        """frames (N, 3, H, W) in [-1, 1] -> unit embeddings."""
        return F.normalize(self.model.encode_image(frames), dim=-1)

    def encode_text(self, captions: list[str]) -> torch.Tensor:
        return F.normalize(self.model.encode_text(self.tokenize(captions)), dim=-1)

    def config(self) -> dict:
        return self.cfg

    @classmethod
    def from_config(cls, config: dict) -> "TinyClip":
        return cls(config)

    # The open_clip model's own keys (no "model." prefix), as the committed file holds them.
    def weights(self) -> dict[str, torch.Tensor]:
        return self.model.state_dict()

    def load_weights(self, state: dict[str, torch.Tensor]) -> None:
        self.model.load_state_dict(state)
