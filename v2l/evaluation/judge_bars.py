"""The judge's own bars: accuracy on held-out content, on real clips and on their VAE reconstructions."""

from __future__ import annotations

import torch

from v2l.evaluation.judge import VideoJudge
from v2l.world.eval_sets import balanced_eval_set
from v2l.world.sampler import WorldConfig, load_content


def accuracy(judge: VideoJudge, clips: torch.Tensor, labels: torch.Tensor) -> dict:
    probs = judge.probabilities(clips)
    pred = probs.argmax(-1)
    per = {judge.classes[c]: float((pred[labels == c] == c).float().mean()) for c in labels.unique().tolist()}
    return {"accuracy": float((pred == labels).float().mean()), "per_semantic": per}


@torch.no_grad()
def measure_judge(judge: VideoJudge, world: WorldConfig, per_semantic: int = 16, vae=None) -> dict:
    """Accuracy over all semantics on held-out content: real clips, and (with a VAE) their reconstructions,
    which is what the judge sees of generated videos."""
    content = load_content(world)
    ev_clips, ev_labels, _ = balanced_eval_set(world, content["heldout"], judge.classes, per_semantic, 20_000)
    metrics = {"heldout_content_" + k: v for k, v in accuracy(judge, ev_clips, ev_labels).items()}
    if vae is not None:
        rec = torch.cat(
            [
                vae.decode(vae.encode(ev_clips[i : i + 32]).latent_dist.mode()).sample.clamp(-1, 1)
                for i in range(0, len(ev_clips), 32)
            ]
        )
        metrics["heldout_content_vae_reconstruction_accuracy"] = accuracy(judge, rec, ev_labels)["accuracy"]
    metrics["chance"] = 1 / len(judge.classes)
    return metrics
