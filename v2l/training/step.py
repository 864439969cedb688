"""One Video2LoRA training step: diffusion loss through the predicted LoRA, only aux + hypernetwork learn.

The backbone (transformer, VAE, text encoder) stays frozen and in eval mode. Trainable weights stay fp32
(master weights) and the forward may run under bf16 autocast; the official code cast them to bf16 after
building the optimizer, which rounds most updates away.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import torch
from pydantic import BaseModel, ConfigDict


class OptimConfig(BaseModel):
    """Paper values for CogVideoX-5B (DESIGN §2); the tiny preset will want its own lr."""

    model_config = ConfigDict(extra="forbid")

    lr: float = 1e-5
    hypernet_lr: float | None = None  # None: same as lr (the official factor is 1)
    weight_decay: float = 0.03
    eps: float = 1e-10
    betas: tuple[float, float] = (0.9, 0.999)
    aux_grad_clip: float | None = 0.05  # the official code clips only the aux (LoRA-network) params
    caption_dropout: float = 0.1
    autocast_bf16: bool = False


@dataclass
class Batch:
    reference: torch.Tensor  # (B, 3, F, H, W) in [-1, 1]
    target: torch.Tensor  # (B, 3, F, H, W) in [-1, 1]; its first frame is the I2V condition
    captions: list[str]
    semantics: list[str] | None = None  # the target's semantic (used by the staged recipe only)


def build_optimizer(model, cfg: OptimConfig) -> torch.optim.AdamW:
    groups = [
        {"params": list(model.hypernet.parameters()), "lr": cfg.hypernet_lr or cfg.lr, "name": "hypernet"},
        {"params": model.network.aux_parameters(), "lr": cfg.lr, "name": "aux"},
    ]
    return torch.optim.AdamW(groups, lr=cfg.lr, betas=cfg.betas, eps=cfg.eps, weight_decay=cfg.weight_decay)


def drop_captions(captions: list[str], p: float, rng: random.Random) -> list[str]:
    """Replace each caption by "" with probability p (what CFG's unconditional branch sees)."""
    return ["" if rng.random() < p else c for c in captions]


def diffusion_loss(model, batch: Batch, cfg: OptimConfig, generator: torch.Generator,
                   rng: random.Random, lora: tuple[torch.Tensor, torch.Tensor] | None = None) -> torch.Tensor:
    """The diffusion loss through the LoRA predicted from the batch's references (or the given factors)."""
    bb = model.backbone
    height, width = batch.target.shape[-2:]
    target_latents = bb.encode_video(batch.target, generator)
    image_latents = bb.image_latents(batch.target[:, :, 0], target_latents.shape[2], generator)
    text = bb.encode_text(drop_captions(batch.captions, cfg.caption_dropout, rng))
    device_type = bb.device.type
    with torch.autocast(device_type, dtype=torch.bfloat16, enabled=cfg.autocast_bf16):
        A_pred, B_pred = lora if lora is not None else model.predict_factors(batch.reference)
        with model.network.applied(A_pred, B_pred):
            return bb.diffusion_loss(target_latents, image_latents, text, height, width, generator)


def training_step(model, batch: Batch, optimizer: torch.optim.Optimizer, cfg: OptimConfig,
                  generator: torch.Generator, rng: random.Random) -> dict[str, float]:
    model.hypernet.train()
    loss = diffusion_loss(model, batch, cfg, generator, rng)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    aux = model.network.aux_parameters()
    aux_norm = (torch.nn.utils.clip_grad_norm_(aux, cfg.aux_grad_clip) if cfg.aux_grad_clip
                else torch.linalg.vector_norm(torch.stack([p.grad.norm() for p in aux if p.grad is not None])))
    hyper_norm = torch.linalg.vector_norm(
        torch.stack([p.grad.norm() for p in model.hypernet.parameters() if p.grad is not None]))
    optimizer.step()
    return {"loss": loss.item(), "grad_norm_aux": float(aux_norm), "grad_norm_hypernet": float(hyper_norm)}
