"""A resumable, wall-time-budgeted training loop shared by the tiny-world pretraining jobs.

The learning rate warms up over steps, then follows a cosine over the wall-time budget, so a run that
is interrupted and resumed ends where an uninterrupted one would. Checkpoints (weights + optimizer +
RNG + elapsed time) are written atomically every `checkpoint_every_s` and at the end.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict

from v2l.atomic import atomic_path, write_text_atomic


class LoopConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    minutes: float = 50.0
    max_steps: int | None = None
    lr: float = 1e-3
    warmup_steps: int = 100
    min_lr_ratio: float = 0.05
    weight_decay: float = 0.0
    checkpoint_every_s: float = 300.0
    log_every: int = 25
    seed: int = 0
    threads: int = 2


def lr_at(cfg: LoopConfig, step: int, elapsed_s: float) -> float:
    if step < cfg.warmup_steps:
        return cfg.lr * (step + 1) / cfg.warmup_steps
    frac = min(1.0, elapsed_s / (cfg.minutes * 60))
    return cfg.lr * (cfg.min_lr_ratio + (1 - cfg.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * frac)))


def run_loop(out_dir: str | Path, cfg: LoopConfig, params: list[torch.nn.Parameter],
             step_fn: Callable[[int], dict[str, float]], save_weights: Callable[[Path], None],
             load_weights: Callable[[Path], None], extra_state: Callable[[], dict] | None = None,
             load_extra_state: Callable[[dict], None] | None = None, say: Callable[[str], None] = print) -> dict:
    """Run `step_fn(step) -> metrics` (it must call backward) until the wall-time or step budget is spent."""
    out_dir = Path(out_dir)
    ckpt = out_dir / "checkpoint"
    torch.set_num_threads(cfg.threads)
    optimizer = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    step, elapsed, history = 0, 0.0, []
    if (ckpt / "state.pt").is_file():
        load_weights(ckpt)
        state = torch.load(ckpt / "state.pt", weights_only=True)
        optimizer.load_state_dict(state["optimizer"])
        step, elapsed, history = state["step"], state["elapsed"], state["history"]
        torch.set_rng_state(state["torch_rng"])
        if load_extra_state and "extra" in state:
            load_extra_state(state["extra"])
        say(f"resumed at step {step} ({elapsed / 60:.1f} min done)")
    else:
        torch.manual_seed(cfg.seed)

    def checkpoint() -> None:
        ckpt.mkdir(parents=True, exist_ok=True)
        save_weights(ckpt)
        state = {"optimizer": optimizer.state_dict(), "step": step, "elapsed": elapsed, "history": history,
                 "torch_rng": torch.get_rng_state(), "extra": extra_state() if extra_state else {}}
        with atomic_path(ckpt / "state.pt") as tmp:
            torch.save(state, tmp)

    last_ckpt = time.perf_counter()
    window: list[dict] = []
    while elapsed < cfg.minutes * 60 and (cfg.max_steps is None or step < cfg.max_steps):
        t0 = time.perf_counter()
        for group in optimizer.param_groups:
            group["lr"] = lr_at(cfg, step, elapsed)
        optimizer.zero_grad(set_to_none=True)
        metrics = step_fn(step)
        optimizer.step()
        step += 1
        elapsed += time.perf_counter() - t0
        window.append(metrics)
        if step % cfg.log_every == 0:
            mean = {k: float(np.mean([m[k] for m in window])) for k in window[0]}
            history.append({"step": step, "minutes": elapsed / 60, "lr": optimizer.param_groups[0]["lr"], **mean})
            say(json.dumps({k: round(v, 5) if isinstance(v, float) else v for k, v in history[-1].items()}))
            window = []
        if time.perf_counter() - last_ckpt > cfg.checkpoint_every_s:
            checkpoint()
            last_ckpt = time.perf_counter()
    checkpoint()
    write_text_atomic(out_dir / "history.json", json.dumps(history, indent=1))
    return {"steps": step, "minutes": elapsed / 60, "history": history}
