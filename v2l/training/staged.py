"""The `staged` recipe: make the LoRA directions exist before asking a hypernetwork to find them.

1. codes: one learnable LoRA code per training semantic (the official code's unused `PreOptHyperDream`),
   through the shared aux matrices, trained with the diffusion loss;
2. distil: the hypernetwork learns to reproduce its reference's semantic code (weight-space MSE), with an
   optional semantic-classification head on its reference features;
3. finetune: end to end with the diffusion loss only (the paper recipe), so codes specialise per reference.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from pydantic import BaseModel, ConfigDict
from torch import nn

from v2l.training.step import Batch, OptimConfig, diffusion_loss, reference_latents


class StagedConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    codes_steps: int = 1000
    distill_steps: int = 1000
    code_lr: float = 3e-3
    classification_weight: float = 0.1  # 0 disables the auxiliary semantic head
    finetune_lr: float | None = None  # None: optim.lr; lower keeps stage 3 from undoing the distilled codes
    semantics: tuple[str, ...] = ()  # empty: every training semantic of the tiny world


def lr_factor(step: int, cfg: StagedConfig, base_lr: float) -> float:
    """Multiplier on the hypernetwork and aux learning rates at a step (only stage 3 may differ)."""
    if cfg.finetune_lr is None or stage_at(step, cfg) != "finetune":
        return 1.0
    return cfg.finetune_lr / base_lr


def stage_at(step: int, cfg: StagedConfig) -> str:
    if step < cfg.codes_steps:
        return "codes"
    if step < cfg.codes_steps + cfg.distill_steps:
        return "distill"
    return "finetune"


class SemanticCodes(nn.Module):
    """One (N, (a+b)*r) LoRA code per semantic: A parts random (small), B parts zero, so the LoRA starts off."""

    def __init__(self, names: list[str], num_modules: int, lora_cfg, width: int):
        super().__init__()
        self.names = list(names)
        a_len = lora_cfg.a * lora_cfg.r
        codes = torch.zeros(len(names), num_modules, (lora_cfg.a + lora_cfg.b) * lora_cfg.r)
        codes[..., :a_len] = torch.randn(len(names), num_modules, a_len) * 0.1
        self.codes = nn.Parameter(codes)
        self.head = nn.Linear(width, len(names))

    def index(self, semantics: list[str]) -> torch.Tensor:
        return torch.tensor([self.names.index(s) for s in semantics])


def staged_loss(
    model,
    codes: SemanticCodes,
    stage: str,
    batch: Batch,
    optim_cfg: OptimConfig,
    staged: StagedConfig,
    generator,
    rng,
    empty_text: torch.Tensor | None = None,
) -> tuple[torch.Tensor, dict]:
    if stage == "finetune":
        return diffusion_loss(model, batch, optim_cfg, generator, rng, empty_text=empty_text), {}
    idx = codes.index(batch.semantics)
    if stage == "codes":
        lora = model.network.split(codes.codes[idx])
        return diffusion_loss(model, batch, optim_cfg, generator, rng, lora=lora, empty_text=empty_text), {}
    latents = reference_latents(model, batch)
    pred = model.hypernet(latents)
    target = codes.codes[idx].detach()
    mse = F.mse_loss(pred, target)
    extra = {"distill_mse": mse.item()}
    loss = mse
    if staged.classification_weight > 0:
        logits = codes.head(model.hypernet.reference_tokens(latents).mean(1))
        ce = F.cross_entropy(logits, idx)
        loss = loss + staged.classification_weight * ce
        extra["reference_class_acc"] = float((logits.argmax(-1) == idx).float().mean())
    return loss, extra
