"""A resumable, wall-time- or step-budgeted training loop shared by the pretraining jobs and per-condition LoRAs.

The learning rate warms up over steps, then follows a cosine over the wall-time budget, so a run that
is interrupted and resumed ends where an uninterrupted one would. Checkpoints (weights + optimizer +
RNG + elapsed time) go into the shared step folders of `v2l.checkpointing` every `checkpoint_every_s` and at
the end: a checkpoint is the weights and the state of one step, or nothing (a kill mid-write tears neither).
"""

from __future__ import annotations

import json
import logging
import math
import time
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict

from v2l.atomic import write_text_atomic
from v2l.checkpointing import latest_step, write_step

log = logging.getLogger(__name__)

STATE = "state.pt"  # written last: its presence marks a complete checkpoint


class LoopConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    minutes: float = 50.0
    max_steps: int | None = None
    lr: float = 1e-3
    warmup_steps: int = 100
    min_lr_ratio: float = 0.05
    weight_decay: float = 0.0
    checkpoint_every_s: float = 300.0
    keep_last: int = 2
    log_every: int = 25
    seed: int = 0
    threads: int = 2


def lr_at(cfg: LoopConfig, step: int, elapsed_s: float) -> float:
    """Warm-up, then a cosine over whichever budget runs out first: with `max_steps` the schedule (and so the model)
    no longer depends on how fast the machine was, as long as the steps fit the minutes."""
    if step < cfg.warmup_steps:
        return cfg.lr * (step + 1) / cfg.warmup_steps
    frac = min(1.0, elapsed_s / (cfg.minutes * 60))
    if cfg.max_steps:
        frac = max(frac, min(1.0, step / cfg.max_steps))
    return cfg.lr * (cfg.min_lr_ratio + (1 - cfg.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * frac)))


def latest_checkpoint_dir(out_dir: str | Path) -> Path | None:
    """The newest complete checkpoint of a run; runs written before step folders kept one `checkpoint/`."""
    out_dir = Path(out_dir)
    found = latest_step(out_dir / "checkpoints", STATE)
    if found is None and (out_dir / "checkpoint" / STATE).is_file():
        found = out_dir / "checkpoint"
    return found


def run_loop(
    out_dir: str | Path,
    cfg: LoopConfig,
    params: list[torch.nn.Parameter],
    step_fn: Callable[[int], dict[str, float]],
    save_weights: Callable[[Path], None],
    load_weights: Callable[[Path], None],
    extra_state: Callable[[], dict] | None = None,
    load_extra_state: Callable[[dict], None] | None = None,
    between_steps: Callable[[int, float], None] | None = None,
    label: str = "",
) -> dict:
    """Run `step_fn(step) -> metrics` (it must call backward) until the wall-time or step budget is spent.
    `between_steps(step, elapsed_s)` runs after each step outside the timed region (e.g. judging the model so far:
    its time is not training time). `label` prefixes the loop's log lines (`label: ...`)."""
    out_dir = Path(out_dir)
    root = out_dir / "checkpoints"
    prefix = f"{label}: " if label else ""
    torch.set_num_threads(cfg.threads)
    optimizer = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    step, elapsed, history = 0, 0.0, []
    ckpt = latest_checkpoint_dir(out_dir)
    if ckpt is not None:
        load_weights(ckpt)
        state = torch.load(ckpt / STATE, weights_only=True)
        optimizer.load_state_dict(state["optimizer"])
        step, elapsed, history = state["step"], state["elapsed"], state["history"]
        torch.set_rng_state(state["torch_rng"])
        if load_extra_state and "extra" in state:
            load_extra_state(state["extra"])
        log.info(f"{prefix}resumed at step {step} ({elapsed / 60:.1f} min done)")
    else:
        torch.manual_seed(cfg.seed)

    def checkpoint() -> None:
        def write(folder: Path) -> None:
            save_weights(folder)
            state = {
                "optimizer": optimizer.state_dict(),
                "step": step,
                "elapsed": elapsed,
                "history": history,
                "torch_rng": torch.get_rng_state(),
                "extra": extra_state() if extra_state else {},
            }
            torch.save(state, folder / STATE)

        write_step(root, step, write, cfg.keep_last)

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
            log.info(
                prefix + json.dumps({k: round(v, 5) if isinstance(v, float) else v for k, v in history[-1].items()})
            )
            window = []
        if between_steps is not None:
            between_steps(step, elapsed)
        if time.perf_counter() - last_ckpt > cfg.checkpoint_every_s:
            checkpoint()
            last_ckpt = time.perf_counter()
    checkpoint()
    write_text_atomic(out_dir / "history.json", json.dumps(history, indent=1))
    return {"steps": step, "minutes": elapsed / 60, "history": history}
