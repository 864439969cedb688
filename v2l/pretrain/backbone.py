"""`v2l pretrain backbone`: train the tiny I2V CogVideoXTransformer3DModel on the frozen trained VAE.

Training and tier-1 semantics on training content with content-only captions: the world learns to render each
of them from a first frame, but nothing tells it which one is wanted (that is the LoRA's job).
Latents are cached once (the VAE is frozen), v-prediction with the CogVideoX DDIM schedule, EMA weights.
"""

from __future__ import annotations

import copy
import logging
import random
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from pydantic import BaseModel, ConfigDict

from v2l.backbones.latents import i2v_inputs, latent_cache
from v2l.backbones.tiny import TinySpec
from v2l.training.loop import LoopConfig, run_loop
from v2l.video.pixels import to_uint8
from v2l.world.sampler import ClipSampler, WorldConfig, load_content, semantics_for
from v2l.world.version import data_version

log = logging.getLogger(__name__)


class BackbonePretrainConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    loop: LoopConfig = LoopConfig(minutes=60.0, lr=1e-3, warmup_steps=200)  # the committed run's budget
    world: WorldConfig = WorldConfig()
    batch: int = 32
    cache_clips: int = 6144
    ema: float = 0.999
    caption_dropout: float = 0.1
    autocast_bf16: bool = True
    text_encoder_seed: int = 2


def pretrain_backbone(out_dir: str | Path, vae_dir: str | Path, cfg: BackbonePretrainConfig | None = None) -> dict:
    from diffusers import AutoencoderKLCogVideoX

    cfg = cfg or BackbonePretrainConfig()
    torch.set_num_threads(cfg.loop.threads)  # also for building the data pools, not just the loop
    out_dir = Path(out_dir)
    spec = TinySpec()
    bb = spec.random_init(seed=cfg.text_encoder_seed)  # the frozen text encoder is this seed's random T5
    bb.vae = AutoencoderKLCogVideoX.from_pretrained(vae_dir, local_files_only=True)
    torch.manual_seed(cfg.loop.seed)
    transformer = spec.build_transformer().train()
    ema = copy.deepcopy(transformer).requires_grad_(False)
    bb.transformer = transformer
    bb.__post_init__()
    transformer.requires_grad_(True).train()

    content = load_content(cfg.world)
    sampler = ClipSampler(cfg.world, content["train"], semantics_for("backbone"), seed=cfg.loop.seed + 1)
    clips, captions = [], []
    for _ in range(0, cfg.cache_clips, 64):
        x, cap, _ = sampler.batch(64)
        clips.append(to_uint8(x))
        captions += cap
    videos, images = latent_cache(bb, torch.cat(clips))
    unique = sorted(set(captions) | {""})
    text = dict(zip(unique, bb.encode_text(unique)))
    log.info(f"cached {len(videos)} clips, latent std {float(videos.std()):.3f}, {len(unique)} captions")
    order = np.random.default_rng(cfg.loop.seed)
    drop = random.Random(cfg.loop.seed)
    scheduler = bb.scheduler

    def step_fn(step: int) -> dict[str, float]:
        idx = order.integers(0, len(videos), cfg.batch)
        x0, img = i2v_inputs(videos[idx], images[idx])
        caps = ["" if drop.random() < cfg.caption_dropout else captions[i] for i in idx]
        emb = torch.stack([text[c] for c in caps])
        noise = torch.randn_like(x0)
        t = torch.randint(0, scheduler.config.num_train_timesteps, (len(idx),))
        noisy = scheduler.add_noise(x0, noise, t)
        target = scheduler.get_velocity(x0, noise, t)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=cfg.autocast_bf16):
            pred = transformer(
                hidden_states=torch.cat([noisy, img], dim=2), encoder_hidden_states=emb, timestep=t, return_dict=False
            )[0]
        loss = F.mse_loss(pred.float(), target)
        loss.backward()
        with torch.no_grad():
            for pe, p in zip(ema.parameters(), transformer.parameters()):
                pe.lerp_(p, 1 - cfg.ema)
        return {"loss": loss.item()}

    def save(d: Path) -> None:
        ema.save_pretrained(d / "transformer_ema")
        transformer.save_pretrained(d / "transformer")

    def load(d: Path) -> None:
        cls = type(transformer)
        transformer.load_state_dict(cls.from_pretrained(d / "transformer").state_dict())
        ema.load_state_dict(cls.from_pretrained(d / "transformer_ema").state_dict())

    result = run_loop(
        out_dir,
        cfg.loop,
        list(transformer.parameters()),
        step_fn,
        save,
        load,
        extra_state=lambda: {
            "order": order.bit_generator.state,
            "drop": list(drop.getstate()[1]),
            "drop_v": drop.getstate()[0],
        },
        load_extra_state=lambda s: (
            setattr(order.bit_generator, "state", s["order"]),
            drop.setstate((s["drop_v"], tuple(s["drop"]), None)),
        ),
    )
    model_dir = out_dir / "model"
    bb.transformer = ema.eval()
    bb.save(model_dir)  # transformer (EMA), vae, text_encoder, tokenizer, scheduler in diffusers layout
    return {
        "minutes": result["minutes"],
        "steps": result["steps"],
        "data_version": data_version(cfg.world),
        "model_dir": str(model_dir),
        "vae_dir": str(vae_dir),
        "final_loss": result["history"][-1]["loss"] if result["history"] else None,
    }
