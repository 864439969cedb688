"""`v2l pretrain lit-clip`: train the LiT CLIP's projection heads on the frozen towers' cached features.

Data: frames of the world's training content (every semantic, as for the tiny CLIP) with their content captions.
Training items whose caption equals a held-out caption are dropped, so no held-out caption is ever seen.
The frozen towers run once over the frame pool (the cache); head training is then a few seconds of linear
algebra per thousand steps. Loss: open_clip's `ClipLoss` (symmetric InfoNCE). Each step draws one cached frame
per distinct caption (all of them), so no positive is ever a negative. Measured afterwards with the tiny
CLIP's own function, `v2l.evaluation.clip_retrieval.retrieval_top1`, on the held-out content.

`dev_procedural` sets the last N procedural training items aside (as `v2l pretrain clip` does) to compare
recipes without touching the held-out content; the committed heads train on all training items.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict

from v2l.atomic import atomic_path
from v2l.evaluation.clip_retrieval import retrieval_top1
from v2l.evaluation.lit_clip import DEFAULT_CFG, FrozenTowers, LitClip, LitHeads
from v2l.pretrain.clip import sample_frame_pool, split_dev
from v2l.video.pixels import to_float
from v2l.world.sampler import WorldConfig, load_content
from v2l.world.version import data_version

log = logging.getLogger(__name__)


class LitClipConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    world: WorldConfig = WorldConfig()
    seed: int = 0
    threads: int = 2
    image_size: int = DEFAULT_CFG["image_size"]
    embed_dim: int = DEFAULT_CFG["embed_dim"]
    pool_frames: int = 2048  # training frames through the frozen image tower (cached)
    steps: int = 1000
    lr: float = 1e-3
    weight_decay: float = 0.1
    dev_procedural: int = 0
    eval_frames_per_item: int = 4  # the tiny CLIP's held-out measurement: 4 frames per item, seed 40000
    dev_frames_per_item: int = 8


def training_content(cfg: LitClipConfig) -> tuple[list, list, list]:
    """(train items, dev items, held-out items); train and dev never carry a held-out caption."""

    content = load_content(cfg.world)
    heldout_captions = {c.caption for c in content["heldout"]}
    train = [c for c in content["train"] if c.caption not in heldout_captions]
    train, dev = split_dev(train, cfg.dev_procedural)
    return train, dev, content["heldout"]


@torch.no_grad()
def frame_pool(cfg: LitClipConfig, content: list) -> tuple[torch.Tensor, list[str]]:
    """`pool_frames` frames (uint8, N x 3 x H x W) drawn like the tiny CLIP's pool, with their captions."""
    frames, captions = sample_frame_pool(cfg.world, content, cfg.pool_frames, cfg.seed + 11)
    return frames[: cfg.pool_frames], captions[: cfg.pool_frames]


def cache_key(cfg: LitClipConfig) -> str:
    """What the feature cache depends on: the frames drawn and how the towers see them."""
    import hashlib

    keep = cfg.model_dump(include={"world", "seed", "image_size", "pool_frames", "dev_procedural"}, mode="json")
    return hashlib.sha256(json.dumps(keep, sort_keys=True).encode()).hexdigest()[:16]


def cached_features(
    out_dir: Path, cfg: LitClipConfig, towers: FrozenTowers, train: list
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, list[str]]:
    """(image features, text features of the distinct captions, caption index per frame, captions), run once per
    config and kept in the run directory (`features-KEY.pt`), so head recipes retrain in seconds."""

    path = out_dir / f"features-{cache_key(cfg)}.pt"
    if path.is_file():
        d = torch.load(path, weights_only=True)
        log.info(f"frozen features from {path}")
        return d["image"], d["text"], d["owner"], json.loads(path.with_suffix(".json").read_text())
    frames, captions = frame_pool(cfg, train)
    log.info(f"caching frozen features of {len(frames)} frames at {cfg.image_size}px")
    image_feats = towers.image_features(to_float(frames))
    unique = sorted(set(captions))
    text_feats = towers.text_features(unique)
    owner = torch.tensor([unique.index(c) for c in captions])
    out_dir.mkdir(parents=True, exist_ok=True)
    with atomic_path(path.with_suffix(".json")) as tmp:
        Path(tmp).write_text(json.dumps(unique))
    with atomic_path(path) as tmp:
        torch.save({"image": image_feats, "text": text_feats, "owner": owner}, str(tmp))
    return image_feats, text_feats, owner, unique


def train_heads(
    image_feats: torch.Tensor, text_feats: torch.Tensor, owner: torch.Tensor, cfg: LitClipConfig
) -> LitHeads:
    """Contrastive training of the heads: image_feats (N, 2096), text_feats (C, 384), owner (N,) caption index."""
    from open_clip.loss import ClipLoss

    torch.manual_seed(cfg.seed)
    heads = LitHeads(
        {
            "image_size": cfg.image_size,
            "embed_dim": cfg.embed_dim,
            "image_dim": image_feats.shape[1],
            "text_dim": text_feats.shape[1],
        }
    )
    heads.image_mean.copy_(image_feats.mean(0))
    heads.image_std.copy_(image_feats.std(0).clamp_min(1e-4))
    loss_fn = ClipLoss()
    opt = torch.optim.AdamW(heads.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    rng = np.random.default_rng(cfg.seed)
    by_caption = [torch.nonzero(owner == c).flatten().numpy() for c in range(len(text_feats))]
    heads.train()
    for step in range(cfg.steps):
        pick = torch.tensor([int(rng.choice(rows)) for rows in by_caption])
        loss = loss_fn(heads.image(image_feats[pick]), heads.text(text_feats), heads.logit_scale.exp())
        opt.zero_grad()
        loss.backward()
        opt.step()
        with torch.no_grad():
            heads.logit_scale.clamp_(0, 4.6052)  # open_clip's cap: temperature at most 100
        if step % 200 == 0 or step == cfg.steps - 1:
            log.info(f"step {step}: loss {loss.item():.4f}")
    return heads.eval()


def pretrain_lit_clip(out_dir: str | Path, cfg: LitClipConfig | None = None) -> dict:
    """Cache features, train the heads, save them to out_dir/model/lit_clip, measure retrieval; returns a result."""

    cfg = cfg or LitClipConfig()
    torch.set_num_threads(cfg.threads)
    out_dir = Path(out_dir)
    start = time.time()
    train, dev, heldout = training_content(cfg)
    towers = FrozenTowers(cfg.image_size)
    image_feats, text_feats, owner, unique = cached_features(out_dir, cfg, towers, train)
    cache_seconds = time.time() - start
    heads = train_heads(image_feats, text_feats, owner, cfg)
    train_seconds = time.time() - start - cache_seconds
    model = LitClip(heads, towers)
    heads.save(out_dir / "model" / "lit_clip")
    metrics = {
        "heldout_" + k: v
        for k, v in retrieval_top1(model, heldout, cfg.world, cfg.eval_frames_per_item, 40_000).items()
    }
    metrics["train_caption_to_frame_top1"] = retrieval_top1(model, train, cfg.world, 1, 41_000)["caption_to_frame_top1"]
    if dev:
        r = retrieval_top1(model, dev, cfg.world, cfg.dev_frames_per_item, 42_000)
        metrics.update(
            {
                "dev_caption_to_frame_top1": r["caption_to_frame_top1"],
                "dev_frame_to_caption_top1": r["frame_to_caption_top1"],
                "dev_items": len(dev),
            }
        )
    metrics.update(
        {
            "train_items": len(train),
            "train_captions": len(unique),
            "pool_frames": len(owner),
            "cache_seconds": round(cache_seconds, 1),
            "head_training_seconds": round(train_seconds, 1),
        }
    )
    return {
        "metrics": metrics,
        "minutes": (time.time() - start) / 60,
        "steps": cfg.steps,
        "data_version": data_version(cfg.world) + "-minus-heldout-captions",
    }
