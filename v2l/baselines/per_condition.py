"""The old way: one standard peft LoRA (rank 4) per semantic, trained with the diffusion loss on that
semantic's clips, then judged on held-out first frames. Its wall time is the cost Video2LoRA avoids.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.nn.functional as F

from v2l.backbones.latents import i2v_inputs, latent_cache
from v2l.training.loop import LoopConfig, run_loop
from v2l.video.pixels import to_uint8
from v2l.world.sampler import ClipSampler, WorldConfig, load_content

TARGETS = ["to_q", "to_k", "to_v", "to_out.0"]


def train_lora(
    backbone,
    semantic: str,
    minutes: float = 8.0,
    rank: int = 4,
    batch: int = 16,
    lr: float = 3e-3,
    clips: int = 768,
    world: WorldConfig | None = None,
    seed: int = 0,
    progress: Callable[[float, int], None] | None = None,
    check_every_s: float = 60.0,
    max_steps: int | None = None,
    run_dir: str | Path | None = None,
    checkpoint_every_s: float = 60.0,
    targets: tuple[str, ...] | list[str] = tuple(TARGETS),
) -> dict:
    """Adds adapter `semantic` to the backbone's transformer and trains it with the shared loop (`run_loop`:
    constant learning rate, AdamW); returns timing and losses.

    `progress(training_seconds, step)` is called every `check_every_s` of training (e.g. to judge the adapter so
    far); the time it takes is not counted as training time. `max_steps` stops earlier, at a step count. With
    `run_dir` the run checkpoints there (step folders) and a second call resumes from its last checkpoint.
    `targets`: module-name suffixes the adapter wraps (default: the four attention projections)."""
    import tempfile

    from peft import LoraConfig

    world = world or WorldConfig()
    torch.manual_seed(seed)
    tr = backbone.transformer
    tr.add_adapter(
        LoraConfig(r=rank, lora_alpha=rank, target_modules=list(targets), init_lora_weights=True), adapter_name=semantic
    )
    tr.set_adapter(semantic)
    named = {n: p for n, p in tr.named_parameters() if f".{semantic}." in n}
    for p in named.values():
        p.requires_grad_(True)
    content = load_content(world)["train"]
    sampler = ClipSampler(world, content, [semantic], seed=seed)
    t_cache = time.perf_counter()
    x, captions, _ = zip(*[sampler.batch(64) for _ in range(0, clips, 64)])
    videos, images = latent_cache(backbone, to_uint8(torch.cat(x)))
    captions = [c for group in captions for c in group]
    text = dict(zip(sorted(set(captions)), backbone.encode_text(sorted(set(captions)))))
    cache_seconds = time.perf_counter() - t_cache  # the per-condition cost includes making its training data
    rng = np.random.default_rng(seed)
    sched = backbone.scheduler
    losses: list[float] = []
    next_check = [check_every_s]

    def step_fn(step: int) -> dict[str, float]:
        idx = rng.integers(0, len(videos), batch)
        x0, img = i2v_inputs(videos[idx], images[idx])
        emb = torch.stack([text[captions[i]] for i in idx])
        noise = torch.randn_like(x0)
        t = torch.randint(0, sched.config.num_train_timesteps, (batch,))
        with torch.autocast("cpu", dtype=torch.bfloat16):
            pred = tr(
                hidden_states=torch.cat([sched.add_noise(x0, noise, t), img], dim=2),
                encoder_hidden_states=emb,
                timestep=t,
                return_dict=False,
            )[0]
        loss = F.mse_loss(pred.float(), sched.get_velocity(x0, noise, t))
        loss.backward()
        losses.append(loss.item())
        return {"loss": losses[-1]}

    def between_steps(step: int, elapsed: float) -> None:
        if progress is not None and cache_seconds + elapsed >= next_check[0]:
            tr.eval()
            progress(cache_seconds + elapsed, step)
            tr.train()
            next_check[0] += check_every_s

    def save(folder: Path) -> None:
        from safetensors.torch import save_file

        save_file({n: p.detach().contiguous() for n, p in named.items()}, str(folder / "adapter.safetensors"))

    def load(folder: Path) -> None:
        from safetensors.torch import load_file

        state = load_file(str(folder / "adapter.safetensors"))
        with torch.no_grad():
            for n, p in named.items():
                p.copy_(state[n])

    loop = LoopConfig(
        minutes=max(0.0, minutes - cache_seconds / 60),
        max_steps=max_steps,
        lr=lr,
        warmup_steps=0,
        min_lr_ratio=1.0,
        checkpoint_every_s=checkpoint_every_s,
        log_every=50,
        seed=seed,
        threads=torch.get_num_threads(),
    )
    tr.train()
    with tempfile.TemporaryDirectory(prefix="v2l-lora-") as scratch:
        result = run_loop(
            Path(run_dir) if run_dir is not None else Path(scratch),
            loop,
            list(named.values()),
            step_fn,
            save,
            load,
            extra_state=lambda: {"rng": rng.bit_generator.state, "losses": losses[-50:], "next_check": next_check[0]},
            load_extra_state=lambda s: (
                setattr(rng.bit_generator, "state", s["rng"]),
                losses.extend(s["losses"]),
                next_check.__setitem__(0, s["next_check"]),
            ),
            between_steps=between_steps,
            label=semantic,
        )
    tr.eval()
    for p in named.values():
        p.requires_grad_(False)
    return {
        "semantic": semantic,
        "steps": result["steps"],
        "seconds": cache_seconds + result["minutes"] * 60,
        "final_loss": float(np.mean(losses[-50:])) if losses else None,
    }


def adapter_state(backbone, semantic: str) -> dict[str, torch.Tensor]:
    """The trained adapter's tensors (peft names), for saving as safetensors."""
    from peft.utils import get_peft_model_state_dict

    return {
        k: v.detach().float().contiguous()
        for k, v in get_peft_model_state_dict(backbone.transformer, adapter_name=semantic).items()
    }
