"""The tiny world's CLIP: an open_clip `CLIP` architecture over 48x48 frames, with the tiny caption tokenizer.

open_clip's real BPE vocabulary would put 6 M of its 8 M parameters into the token table; the tiny world's
captions use the tiny T5 vocabulary, so the text tower embeds that (a few hundred ids) and pools the last
position (its causal attention has read the whole caption). Real CLIP weights run by configuration instead.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file

from v2l.atomic import atomic_path, write_text_atomic
from v2l.errors import V2LError

DEFAULT_CFG = dict(embed_dim=64, image_size=48, vision_layers=4, vision_width=128, patch_size=8,
                   text_layers=4, text_width=128, text_heads=4, context_length=16)


class TinyClip(torch.nn.Module):
    def __init__(self, cfg: dict | None = None):
        super().__init__()
        import open_clip

        from v2l.backbones.tiny import TinySpec

        self.cfg = {**DEFAULT_CFG, **(cfg or {})}
        c = self.cfg
        self.tokenizer = TinySpec().build_tokenizer()
        self.model = open_clip.CLIP(
            embed_dim=c["embed_dim"],
            vision_cfg=dict(image_size=c["image_size"], layers=c["vision_layers"], width=c["vision_width"],
                            patch_size=c["patch_size"], head_width=32),
            text_cfg=dict(context_length=c["context_length"], vocab_size=len(self.tokenizer),
                          width=c["text_width"], heads=c["text_heads"], layers=c["text_layers"], pool_type="last"),
        )

    def tokenize(self, captions: list[str]) -> torch.Tensor:
        return self.tokenizer(captions, padding="max_length", max_length=self.cfg["context_length"], truncation=True,
                              return_tensors="pt").input_ids

    def encode_image(self, frames: torch.Tensor) -> torch.Tensor:
        """frames (N, 3, H, W) in [-1, 1] -> unit embeddings."""
        return F.normalize(self.model.encode_image(frames), dim=-1)

    def encode_text(self, captions: list[str]) -> torch.Tensor:
        return F.normalize(self.model.encode_text(self.tokenize(captions)), dim=-1)

    def save(self, directory: str | Path) -> None:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        with atomic_path(directory / "clip.safetensors") as tmp:
            save_file({k: v.contiguous() for k, v in self.model.state_dict().items()}, str(tmp))
        write_text_atomic(directory / "config.json", json.dumps(self.cfg))

    @classmethod
    def load(cls, directory: str | Path) -> "TinyClip":
        directory = Path(directory)
        if not (directory / "clip.safetensors").is_file():
            raise V2LError(f"{directory} holds no tiny CLIP; train one with `v2l pretrain clip`")
        clip = cls(json.loads((directory / "config.json").read_text()))
        clip.model.load_state_dict(load_file(str(directory / "clip.safetensors")))
        return clip.eval()
