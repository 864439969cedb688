"""`v2l pretrain vae`: train the tiny AutoencoderKLCogVideoX on the training semantics x training content.

Loss L1 + L2 + a small KL (the feasibility trial's recipe), bf16 autocast on CPU (1.9x faster there),
a fixed pool of rendered clips (rendering on the fly would cost as much as the step). After training the
latent scaling factor is set to 1/std of the latents, as CogVideoX's own VAEs do.

An optional second phase fine-tunes the decoder alone on the encoder's posterior mode (Stable Diffusion's
ft-MSE decoder idea): reconstructions sharpen while the latent space, and so every model trained on it
(backbone, hypernetwork), stays valid.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from pydantic import BaseModel, ConfigDict
from tqdm import tqdm

from v2l.backbones.tiny import TinySpec
from v2l.evaluation.metrics import psnr_each
from v2l.training.loop import LoopConfig, run_loop
from v2l.video.pixels import to_float, to_uint8
from v2l.world.sampler import ClipSampler, WorldConfig, load_content, semantics_for
from v2l.world.version import data_version

log = logging.getLogger(__name__)


class VAEPretrainConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    loop: LoopConfig = LoopConfig(minutes=54.0, lr=1e-3, warmup_steps=100)  # the committed run's budget
    world: WorldConfig = WorldConfig()
    batch: int = 8
    pool_clips: int = 3072
    kl_weight: float = 1e-7
    autocast_bf16: bool = True
    eval_clips: int = 96
    # Phase 2, decoder only on posterior-mode latents; None skips it. Its minutes add to the wall time.
    decoder_loop: LoopConfig | None = None


def clip_pool(sampler: ClipSampler, n: int, desc: str) -> torch.Tensor:
    """n rendered clips as uint8 (n, 3, F, H, W): 4x smaller than floats, converted per batch."""
    clips = []
    for _ in tqdm(range(0, n, 64), desc=desc, leave=False):
        x, _, _ = sampler.batch(min(64, n - len(clips) * 64))
        clips.append(to_uint8(x))
    return torch.cat(clips)


@torch.no_grad()
def psnr(vae, clips: torch.Tensor, batch: int = 16) -> dict[str, float]:
    """Reconstruction PSNR (posterior mode) over clips in [-1, 1]: mean over clips, and per frame 0."""
    values, first = [], []
    for i in range(0, len(clips), batch):
        x = to_float(clips[i : i + batch])
        rec = vae.decode(vae.encode(x).latent_dist.mode()).sample.clamp(-1, 1)
        values += psnr_each(rec, x).tolist()
        first += psnr_each(rec[:, :, 0], x[:, :, 0]).tolist()
    return {"psnr_db": float(np.mean(values)), "psnr_first_frame_db": float(np.mean(first))}


def _vae_loop(vae, run_dir: Path, loop: LoopConfig, params: list, step_fn, order: np.random.Generator) -> dict:
    """`run_loop` with the whole VAE checkpointed and the batch-order generator resumed."""
    return run_loop(
        run_dir,
        loop,
        params,
        step_fn,
        save_weights=lambda d: vae.save_pretrained(d / "vae"),
        load_weights=lambda d: vae.load_state_dict(type(vae).from_pretrained(d / "vae").state_dict()),
        extra_state=lambda: {"order": order.bit_generator.state},
        load_extra_state=lambda s: setattr(order.bit_generator, "state", s["order"]),
    )


def pretrain_vae(out_dir: str | Path, cfg: VAEPretrainConfig | None = None) -> dict:
    cfg = cfg or VAEPretrainConfig()
    torch.set_num_threads(cfg.loop.threads)  # also for building the data pools, not just the loop
    out_dir = Path(out_dir)
    spec = TinySpec()
    torch.manual_seed(cfg.loop.seed)
    vae = spec.build_vae().train()
    content = load_content(cfg.world)
    train = ClipSampler(cfg.world, content["train"], semantics_for("train"), seed=cfg.loop.seed)
    pool = clip_pool(train, cfg.pool_clips, "rendering training clips")
    order = np.random.default_rng(cfg.loop.seed)

    def step_fn(step: int) -> dict[str, float]:
        x = to_float(pool[torch.from_numpy(order.integers(0, len(pool), cfg.batch))])
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=cfg.autocast_bf16):
            posterior = vae.encode(x).latent_dist
            rec = vae.decode(posterior.sample()).sample
        rec = rec.float()
        l1, l2 = F.l1_loss(rec, x), F.mse_loss(rec, x)
        kl = posterior.kl().float().sum() / x.shape[0]
        loss = l1 + l2 + cfg.kl_weight * kl
        loss.backward()
        return {"loss": loss.item(), "l1": l1.item(), "kl": kl.item()}

    result = _vae_loop(vae, out_dir, cfg.loop, list(vae.parameters()), step_fn, order)
    minutes = result["minutes"]
    heldout = clip_pool(
        ClipSampler(cfg.world, content["heldout"], semantics_for("all"), seed=10_000),
        cfg.eval_clips,
        "rendering held-out clips",
    )
    before = None
    if cfg.decoder_loop is not None:
        vae.eval()
        before = psnr(vae, heldout)["psnr_db"]
        log.info(f"phase 1 held-out PSNR {before:.2f} dB; fine-tuning the decoder")
        minutes += finetune_decoder(vae, pool, out_dir / "decoder_phase", cfg)
    vae.eval()
    with torch.no_grad():
        z = torch.cat([vae.encode(to_float(pool[i : i + 32])).latent_dist.mode() for i in range(0, 512, 32)])
    vae.register_to_config(scaling_factor=float(1.0 / z.std()))
    metrics = psnr(vae, heldout)
    metrics["scaling_factor"] = vae.config.scaling_factor
    metrics["steps"] = result["steps"]
    if before is not None:
        metrics["psnr_db_before_decoder_finetune"] = before
    vae.save_pretrained(out_dir / "model" / "vae")
    log.info(json.dumps(metrics))
    return {"metrics": metrics, "minutes": minutes, "data_version": data_version(cfg.world)}


def finetune_decoder(vae, pool: torch.Tensor, run_dir: Path, cfg: VAEPretrainConfig) -> float:
    """Phase 2: train the decoder on the frozen encoder's posterior mode; returns minutes spent (encode + loop)."""
    import time

    torch.set_num_threads(cfg.decoder_loop.threads)
    t0 = time.perf_counter()
    vae.requires_grad_(False)
    vae.decoder.requires_grad_(True)
    with torch.no_grad():  # the encoder is frozen: its latents are computed once, in fp32 as at inference
        latents = torch.cat(
            [
                vae.encode(to_float(pool[i : i + 32])).latent_dist.mode()
                for i in tqdm(range(0, len(pool), 32), desc="encoding the pool", leave=False)
            ]
        )
    encode_minutes = (time.perf_counter() - t0) / 60
    vae.decoder.train()
    order = np.random.default_rng(cfg.decoder_loop.seed + 1)

    def step_fn(step: int) -> dict[str, float]:
        idx = torch.from_numpy(order.integers(0, len(pool), cfg.batch))
        x = to_float(pool[idx])
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=cfg.autocast_bf16):
            rec = vae.decode(latents[idx]).sample
        rec = rec.float()
        l1, l2 = F.l1_loss(rec, x), F.mse_loss(rec, x)
        (l1 + l2).backward()
        return {"loss": (l1 + l2).item(), "l1": l1.item()}

    result = _vae_loop(vae, run_dir, cfg.decoder_loop, list(vae.decoder.parameters()), step_fn, order)
    vae.requires_grad_(True)
    return encode_minutes + result["minutes"]
