"""The measurements behind the tiny world's bars , run on held-out content. Fills the model cards."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from v2l.backbones import get_spec
from v2l.backbones.tiny import TINY_WEIGHTS
from v2l.cards.card import update_metrics
from v2l.evaluation.judge import VideoJudge
from v2l.evaluation.metrics import psnr_each
from v2l.inference.generate import sample
from v2l.world.eval_sets import balanced_eval_set
from v2l.world.sampler import WorldConfig, load_content, semantics_for


@torch.no_grad()
def vae_image_ceiling(backbone, images: torch.Tensor) -> np.ndarray:
    """PSNR of the VAE's own reconstruction of each conditioning image (a 1-frame video)."""
    vae = backbone.vae
    rec = vae.decode(vae.encode(images[:, :, None]).latent_dist.mode()).sample[:, :, 0].clamp(-1, 1)
    return psnr_each(rec, images)


@torch.no_grad()
def measure_backbone(
    backbone, judge, world_cfg, per_semantic: int = 4, steps: int = 25, seed: int = 0, batch: int = 48
) -> dict:
    """Base generations (no LoRA) from held-out first frames with content-only captions."""

    names = semantics_for("backbone")  # what the backbone was pretrained to render
    content = load_content(world_cfg)["heldout"]
    clips, labels, captions = balanced_eval_set(world_cfg, content, names, per_semantic, seed + 30_000)
    images = clips[:, :, 0]
    videos = torch.cat(
        [
            sample(backbone, images[i : i + batch], captions[i : i + batch], steps=steps, seed=seed + i)
            for i in range(0, len(images), batch)
        ]
    )
    first = psnr_each(videos[:, :, 0], images)
    ceiling = vae_image_ceiling(backbone, images)
    probs = judge.probabilities(videos)
    pred = probs.argmax(-1)
    wanted = torch.tensor([judge.classes.index(names[int(label)]) for label in labels])
    predicted = [judge.classes[int(p)] for p in pred]
    counts = {n: predicted.count(n) for n in names}
    train_mass = probs[:, [judge.classes.index(n) for n in names]].sum(-1)
    return {
        "samples": len(videos),
        "first_frame_psnr_db": float(first.mean()),
        "vae_image_ceiling_psnr_db": float(ceiling.mean()),
        "first_frame_psnr_gap_db": float(ceiling.mean() - first.mean()),
        "judge_mean_max_probability": float(probs.max(-1).values.mean()),
        "judge_mean_training_semantic_mass": float(train_mass.mean()),
        "predicted_distribution": counts,
        "missing_training_semantics": [n for n, c in counts.items() if c == 0],
        "base_accuracy_vs_wanted": float((pred == wanted).float().mean()),
        "chance": 1 / len(names),
        "real_clip_judge_accuracy": float((judge.probabilities(clips).argmax(-1) == wanted).float().mean()),
        "steps": steps,
    }


@torch.no_grad()
def judged_accuracy(
    backbone, judge, world_cfg, semantic: str, samples: int = 16, steps: int = 25, seed: int = 0
) -> float:
    """Generate from held-out first frames with whatever adapter/LoRA is active; how often the judge names `semantic`."""

    content = load_content(world_cfg)["heldout"]
    clips, _, captions = balanced_eval_set(world_cfg, content, [semantic], samples, seed + 50_000)
    videos = sample(backbone, clips[:, :, 0], captions, steps=steps, seed=seed)
    pred = judge.probabilities(videos).argmax(-1)
    return float((pred == judge.classes.index(semantic)).float().mean())


def measure_world(
    weights: str | Path | None = None,
    judge_dir: str | Path | None = None,
    per_semantic: int = 4,
    steps: int = 25,
    write: bool = True,
) -> dict:
    """The base-world bars for a backbone folder (default: the committed one) judged by a judge folder
    (default: the committed one); with `write`, recorded in that backbone's transformer card."""

    spec = get_spec("tiny")
    backbone = spec.load(weights) if weights is not None else spec.default()
    torch.manual_seed(0)
    metrics = measure_backbone(
        backbone,
        VideoJudge.load(judge_dir or TINY_WEIGHTS / "judge"),
        WorldConfig(),
        per_semantic=per_semantic,
        steps=steps,
    )
    card_dir = Path(weights or TINY_WEIGHTS) / "transformer"
    if write and (card_dir / "card.json").is_file():
        update_metrics(card_dir, metrics, section="base_world")
    return metrics
