"""The old way: one standard peft LoRA (rank 4) per semantic, trained with the diffusion loss on that
semantic's clips, then judged on held-out first frames. Its wall time is the cost Video2LoRA avoids.
"""

from __future__ import annotations

import time
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

from v2l.pretrain.backbone import i2v_inputs, latent_cache
from v2l.pretrain.world import ClipSampler, WorldConfig, load_content

TARGETS = ["to_q", "to_k", "to_v", "to_out.0"]


def train_lora(backbone, semantic: str, minutes: float = 8.0, rank: int = 4, batch: int = 16, lr: float = 3e-3,
               clips: int = 768, world: WorldConfig | None = None, seed: int = 0,
               say: Callable[[str], None] = print, progress: Callable[[float, int], None] | None = None,
               check_every_s: float = 60.0, max_steps: int | None = None) -> dict:
    """Adds adapter `semantic` to the backbone's transformer and trains it; returns timing and losses.

    `progress(training_seconds, step)` is called every `check_every_s` of training (e.g. to judge the adapter so
    far); the time it takes is not counted as training time. `max_steps` stops earlier, at a step count."""
    from peft import LoraConfig

    world = world or WorldConfig()
    torch.manual_seed(seed)
    tr = backbone.transformer
    tr.add_adapter(LoraConfig(r=rank, lora_alpha=rank, target_modules=TARGETS, init_lora_weights=True),
                   adapter_name=semantic)
    tr.set_adapter(semantic)
    params = [p for n, p in tr.named_parameters() if f".{semantic}." in n]
    for p in params:
        p.requires_grad_(True)
    content = load_content(world)["train"]
    sampler = ClipSampler(world, content, [semantic], seed=seed)
    t_start = time.perf_counter()
    x, captions, _ = zip(*[sampler.batch(64) for _ in range(0, clips, 64)])
    videos, images = latent_cache(backbone, ((torch.cat(x) + 1) * 127.5).round().to(torch.uint8))
    captions = [c for group in captions for c in group]
    text = dict(zip(sorted(set(captions)), backbone.encode_text(sorted(set(captions)))))
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.0)
    rng = np.random.default_rng(seed)
    sched = backbone.scheduler
    losses, step = [], 0
    tr.train()
    next_check = check_every_s
    while time.perf_counter() - t_start < minutes * 60 and (max_steps is None or step < max_steps):
        if progress is not None and time.perf_counter() - t_start >= next_check:
            paused = time.perf_counter()
            tr.eval()
            progress(paused - t_start, step)
            tr.train()
            t_start += time.perf_counter() - paused  # judging is not training time
            next_check += check_every_s
        idx = rng.integers(0, len(videos), batch)
        x0, img = i2v_inputs(videos[idx], images[idx])
        emb = torch.stack([text[captions[i]] for i in idx])
        noise = torch.randn_like(x0)
        t = torch.randint(0, sched.config.num_train_timesteps, (batch,))
        with torch.autocast("cpu", dtype=torch.bfloat16):
            pred = tr(hidden_states=torch.cat([sched.add_noise(x0, noise, t), img], dim=2), encoder_hidden_states=emb,
                      timestep=t, return_dict=False)[0]
        loss = F.mse_loss(pred.float(), sched.get_velocity(x0, noise, t))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses.append(loss.item())
        step += 1
        if step % 50 == 0:
            say(f"{semantic}: step {step} loss {np.mean(losses[-50:]):.4f}")
    tr.eval()
    for p in params:
        p.requires_grad_(False)
    return {"semantic": semantic, "steps": step, "seconds": time.perf_counter() - t_start,
            "final_loss": float(np.mean(losses[-50:])) if losses else None}


def adapter_state(backbone, semantic: str) -> dict[str, torch.Tensor]:
    """The trained adapter's tensors (peft names), for saving as safetensors."""
    from peft.utils import get_peft_model_state_dict

    return {k: v.detach().float().contiguous() for k, v in
            get_peft_model_state_dict(backbone.transformer, adapter_name=semantic).items()}
