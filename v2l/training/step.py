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
    reference: torch.Tensor | None  # (B, 3, F, H, W) in [-1, 1]
    target: torch.Tensor | None  # (B, 3, F, H, W) in [-1, 1]; its first frame is the I2V condition
    captions: list[str]
    semantics: list[str] | None = None  # the target's semantic (used by the staged recipe only)
    # From a latent cache (the VAE and text encoder are frozen, so their outputs can be computed once):
    reference_latents: torch.Tensor | None = None  # (B, C, T, h, w), scaled
    target_latents: torch.Tensor | None = None  # (B, C, T, h, w), scaled
    image_latents: torch.Tensor | None = None  # (B, C, 1, h, w), scaled: the first frame encoded alone
    text: torch.Tensor | None = None  # (B, L, D) caption embeddings (caption dropout then uses cached "")
    pixel_size: tuple[int, int] | None = None  # (H, W) of the videos behind the latents

    def to(self, device) -> "Batch":
        for name in ("reference", "target", "reference_latents", "target_latents", "image_latents", "text"):
            value = getattr(self, name)
            if value is not None:
                setattr(self, name, value.to(device))
        return self


def build_optimizer(model, cfg: OptimConfig) -> torch.optim.AdamW:
    groups = [
        {"params": list(model.hypernet.parameters()), "lr": cfg.hypernet_lr or cfg.lr, "name": "hypernet"},
        {"params": model.network.aux_parameters(), "lr": cfg.lr, "name": "aux"},
    ]
    return torch.optim.AdamW(groups, lr=cfg.lr, betas=cfg.betas, eps=cfg.eps, weight_decay=cfg.weight_decay)


def drop_captions(captions: list[str], p: float, rng: random.Random) -> list[str]:
    """Replace each caption by "" with probability p (what CFG's unconditional branch sees)."""
    return ["" if rng.random() < p else c for c in captions]


def reference_latents(model, batch: Batch) -> torch.Tensor:
    if batch.reference_latents is not None:
        return batch.reference_latents.float()
    return model.backbone.encode_video(batch.reference).float()


def diffusion_loss(
    model,
    batch: Batch,
    cfg: OptimConfig,
    generator: torch.Generator,
    rng: random.Random,
    lora: tuple[torch.Tensor, torch.Tensor] | None = None,
    empty_text: torch.Tensor | None = None,
) -> torch.Tensor:
    """The diffusion loss through the LoRA predicted from the batch's references (or the given factors)."""
    bb = model.backbone
    if batch.target_latents is not None:  # latent-cache batch: no VAE or text encoder at all
        height, width = batch.pixel_size
        target_latents = batch.target_latents
        image_latents = _pad_image_latents(batch.image_latents, target_latents.shape[2])
        keep = torch.tensor([rng.random() >= cfg.caption_dropout for _ in batch.captions])
        empty = empty_text if empty_text is not None else bb.encode_text([""])
        text = torch.where(keep[:, None, None].to(batch.text.device), batch.text, empty.to(batch.text))
    else:
        height, width = batch.target.shape[-2:]
        target_latents = bb.encode_video(batch.target, generator)
        image_latents = bb.image_latents(batch.target[:, :, 0], target_latents.shape[2], generator)
        text = bb.encode_text(drop_captions(batch.captions, cfg.caption_dropout, rng))
    device_type = bb.device.type
    with torch.autocast(device_type, dtype=torch.bfloat16, enabled=cfg.autocast_bf16):
        A_pred, B_pred = (
            lora if lora is not None else model.network.split(model.hypernet(reference_latents(model, batch)))
        )
        with model.network.applied(A_pred, B_pred):
            return bb.diffusion_loss(target_latents, image_latents, text, height, width, generator)


def _pad_image_latents(image: torch.Tensor, latent_frames: int) -> torch.Tensor:
    """(B, C, 1, h, w) -> (B, T, C, h, w) zero-padded over time, as the I2V pipeline builds the condition."""
    img = image.permute(0, 2, 1, 3, 4)
    return torch.cat([img, img.new_zeros(img.shape[0], latent_frames - 1, *img.shape[2:])], dim=1)


def training_step(
    model,
    batch: Batch,
    optimizer: torch.optim.Optimizer,
    cfg: OptimConfig,
    generator: torch.Generator,
    rng: random.Random,
    empty_text: torch.Tensor | None = None,
) -> dict[str, float]:
    model.hypernet.train()
    loss = diffusion_loss(model, batch, cfg, generator, rng, empty_text=empty_text)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    aux = model.network.aux_parameters()
    aux_norm = (
        torch.nn.utils.clip_grad_norm_(aux, cfg.aux_grad_clip)
        if cfg.aux_grad_clip
        else torch.linalg.vector_norm(torch.stack([p.grad.norm() for p in aux if p.grad is not None]))
    )
    hyper_norm = torch.linalg.vector_norm(
        torch.stack([p.grad.norm() for p in model.hypernet.parameters() if p.grad is not None])
    )
    optimizer.step()
    return {"loss": loss.item(), "grad_norm_aux": float(aux_norm), "grad_norm_hypernet": float(hyper_norm)}
