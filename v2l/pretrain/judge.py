"""`v2l pretrain judge`: train the semantic judge on training content x all semantics.

Half of its training clips are the trained VAE's reconstructions of the other half, because every clip it
judges later was decoded by that VAE; it never sees held-out content, where its accuracy is measured.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from pydantic import BaseModel, ConfigDict

from v2l.evaluation.judge import VideoJudge
from v2l.training.loop import LoopConfig, run_loop
from v2l.pretrain.vae import data_version, to_float
from v2l.world.sampler import ClipSampler, WorldConfig, load_content, semantics_for


class JudgePretrainConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    loop: LoopConfig = LoopConfig(minutes=12.0, lr=2e-3, warmup_steps=50, weight_decay=0.01)
    world: WorldConfig = WorldConfig()
    batch: int = 32
    pool_clips: int = 6144
    reconstructed_fraction: float = 0.5
    width: int = 32
    eval_per_semantic: int = 16


@torch.no_grad()
def labelled_pool(sampler: ClipSampler, n: int, vae=None, reconstructed_fraction: float = 0.0):
    """uint8 clips (n, 3, F, H, W) and labels; a fraction replaced by VAE reconstructions."""
    clips, labels = [], []
    for _ in range(0, n, 64):
        x, _, y = sampler.batch(64)
        if vae is not None and reconstructed_fraction > 0:
            k = int(round(len(x) * reconstructed_fraction))
            x[:k] = vae.decode(vae.encode(x[:k]).latent_dist.mode()).sample.clamp(-1, 1)
        clips.append(((x + 1) * 127.5).round().to(torch.uint8))
        labels.append(y)
    return torch.cat(clips)[:n], torch.cat(labels)[:n]


@torch.no_grad()
def balanced_eval_set(cfg: WorldConfig, content, names: list[str], per_semantic: int, seed: int,
                      with_content_ids: bool = False):
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
        rec = torch.cat([vae.decode(vae.encode(ev_clips[i : i + 32]).latent_dist.mode()).sample.clamp(-1, 1)
                         for i in range(0, len(ev_clips), 32)])
        metrics["heldout_content_vae_reconstruction_accuracy"] = accuracy(judge, rec, ev_labels)["accuracy"]
    metrics["chance"] = 1 / len(judge.classes)
    return metrics


def pretrain_judge(out_dir: str | Path, vae_dir: str | Path | None, cfg: JudgePretrainConfig | None = None) -> dict:
    from diffusers import AutoencoderKLCogVideoX

    cfg = cfg or JudgePretrainConfig()
    torch.set_num_threads(cfg.loop.threads)  # also for building the data pools, not just the loop
    out_dir = Path(out_dir)
    names = semantics_for("all")
    torch.manual_seed(cfg.loop.seed)
    judge = VideoJudge(names, cfg.width)
    vae = AutoencoderKLCogVideoX.from_pretrained(vae_dir, local_files_only=True).eval() if vae_dir else None
    content = load_content(cfg.world)
    sampler = ClipSampler(cfg.world, content["train"], names, seed=cfg.loop.seed + 7)
    clips, labels = labelled_pool(sampler, cfg.pool_clips, vae, cfg.reconstructed_fraction)
    order = np.random.default_rng(cfg.loop.seed)

    def step_fn(step: int) -> dict[str, float]:
        judge.train()
        idx = torch.from_numpy(order.integers(0, len(clips), cfg.batch))
        x = to_float(clips[idx])
        if order.random() < 0.5:  # brightness/contrast jitter: semantics are not absolute colour levels
            x = (x * float(order.uniform(0.8, 1.2)) + float(order.uniform(-0.1, 0.1))).clamp(-1, 1)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            logits = judge(x)
        loss = F.cross_entropy(logits.float(), labels[idx])
        loss.backward()
        return {"loss": loss.item(), "acc": float((logits.argmax(-1) == labels[idx]).float().mean())}

    result = run_loop(out_dir, cfg.loop, list(judge.parameters()), step_fn,
                      save_weights=lambda d: judge.save(d / "judge"),
                      load_weights=lambda d: judge.load_state_dict(VideoJudge.load(d / "judge").state_dict()),
                      extra_state=lambda: {"order": order.bit_generator.state},
                      load_extra_state=lambda s: setattr(order.bit_generator, "state", s["order"]))
    judge.eval()
    metrics = measure_judge(judge, cfg.world, cfg.eval_per_semantic, vae)
    judge.save(out_dir / "model" / "judge")
    return {"metrics": metrics, "minutes": result["minutes"], "steps": result["steps"],
            "data_version": data_version(cfg.world)}
