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
from v2l.evaluation.judge_bars import measure_judge
from v2l.training.loop import LoopConfig, run_loop
from v2l.video.pixels import to_float, to_uint8
from v2l.world.sampler import ClipSampler, WorldConfig, load_content, semantics_for
from v2l.world.version import data_version


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
        clips.append(to_uint8(x))
        labels.append(y)
    return torch.cat(clips)[:n], torch.cat(labels)[:n]


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

    result = run_loop(
        out_dir,
        cfg.loop,
        list(judge.parameters()),
        step_fn,
        save_weights=lambda d: judge.save(d / "judge"),
        load_weights=lambda d: judge.load_state_dict(VideoJudge.load(d / "judge").state_dict()),
        extra_state=lambda: {"order": order.bit_generator.state},
        load_extra_state=lambda s: setattr(order.bit_generator, "state", s["order"]),
    )
    judge.eval()
    metrics = measure_judge(judge, cfg.world, cfg.eval_per_semantic, vae)
    judge.save(out_dir / "model" / "judge")
    return {
        "metrics": metrics,
        "minutes": result["minutes"],
        "steps": result["steps"],
        "data_version": data_version(cfg.world),
    }
