"""The hypernetwork training loop, the same code in a plain process and in each Ray Train worker.

DDP wraps only the trainable part (hypernetwork + aux matrices); the frozen backbone is held outside it,
so it is never wrapped, broadcast or updated. Every random choice is seeded by (seed, step, rank), so the
checkpointed step is the whole data position and a resumed run continues exactly.
"""

from __future__ import annotations

import json
import logging
import random
import time
from pathlib import Path
from typing import Callable

import torch
from torch import nn

from v2l.backbones import get_spec
from v2l.config import V2LConfig
from v2l.model import Video2LoRA
from v2l.training.checkpoints import check_same_backbone, latest_checkpoint, load_checkpoint, save_checkpoint
from v2l.training.config import TrainConfig, flatten
from v2l.training.pairs import pair_source, step_seed
from v2l.training.staged import SemanticCodes, lr_factor, stage_at, staged_loss
from v2l.training.step import build_optimizer, diffusion_loss
from v2l.training.tracking import Tracker
from v2l.training.validation import validate
from v2l.world.sampler import semantics_for

log = logging.getLogger(__name__)

Report = Callable[[dict, Path | None], None]


class TrainModule(nn.Module):
    """Hypernetwork + aux matrices (+ the staged recipe's codes): what DDP wraps. The backbone stays outside."""

    def __init__(self, model, codes: nn.Module | None = None, staged=None):
        super().__init__()
        self.hypernet = model.hypernet
        self.aux = nn.ParameterList(model.network.aux_parameters())
        self.codes = codes
        self.staged = staged
        object.__setattr__(self, "model", model)  # a plain attribute: not a submodule, never wrapped

    def forward(
        self, batch, optim_cfg, generator, rng, stage: str = "paper", empty_text: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, dict]:
        if stage == "paper":
            return diffusion_loss(self.model, batch, optim_cfg, generator, rng, empty_text=empty_text), {}

        return staged_loss(self.model, self.codes, stage, batch, optim_cfg, self.staged, generator, rng, empty_text)


def build_model(cfg: TrainConfig, device: torch.device):
    spec = get_spec(cfg.preset)
    dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
    backbone = spec.load(cfg.backbone_weights, dtype=dtype) if cfg.backbone_weights else spec.default(dtype=dtype)
    backbone.to(device)
    model = Video2LoRA(backbone, V2LConfig(preset=cfg.preset, lora=cfg.lora, hypernet=cfg.hypernet), seed=cfg.seed)
    if cfg.gradient_checkpointing:
        model.network.enable_gradient_checkpointing(backbone.transformer)
    for p in model.trainable_parameters():  # fp32 master weights, even next to a bf16 backbone
        p.data = p.data.float()
    return model


def run_training(
    cfg: TrainConfig,
    rank: int = 0,
    world_size: int = 1,
    report: Report | None = None,
    resume_from: Path | None = None,
    device: torch.device | None = None,
    command: str | None = None,
) -> dict:
    """`command`: the command that started the job, MLflow's run source (a Ray worker gets the driver's)."""
    torch.set_num_threads(cfg.torch_threads)
    if cfg.deterministic:
        torch.use_deterministic_algorithms(True, warn_only=True)
    device = device or torch.device("cpu")
    model = build_model(cfg, device)
    codes = None
    if cfg.recipe == "staged":
        names = list(cfg.staged.semantics) or semantics_for("train")
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(cfg.seed + 1)
            codes = SemanticCodes(names, len(model.network), cfg.lora, model.hypernet.width).to(device)
    module: nn.Module = TrainModule(model, codes, cfg.staged)
    if world_size > 1:
        # Each staged phase leaves some parameters unused (codes, head or hypernetwork).
        module = nn.parallel.DistributedDataParallel(
            module,
            device_ids=[device.index] if device.type == "cuda" else None,
            find_unused_parameters=codes is not None,
        )
    optim_cfg = cfg.optim.model_copy(update={"autocast_bf16": cfg.optim.autocast_bf16 or device.type == "cuda"})
    optimizer = build_optimizer(model, optim_cfg)
    if codes is not None:
        optimizer.add_param_group({"params": list(codes.parameters()), "lr": cfg.staged.code_lr, "name": "codes"})
    # Constant, as the paper; the staged recipe may lower the hypernetwork/aux rate for its last stage.
    factors = [
        (lambda s: 1.0)
        if codes is None or group.get("name") == "codes"
        else (lambda s: lr_factor(s, cfg.staged, cfg.optim.lr))
        for group in optimizer.param_groups
    ]
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, factors)
    ckpt_root = cfg.run_dir / "checkpoints"
    backbone = model.backbone.fingerprint  # carried in every checkpoint: what this hypernetwork is trained on
    state = {"step": 0, "samples_seen": 0, "seconds": 0.0, "backbone": backbone}
    start = resume_from or latest_checkpoint(ckpt_root)
    if start is not None:
        check_same_backbone(start, backbone)
        state = {**load_checkpoint(start, model, optimizer, scheduler, extra=codes), "backbone": backbone}
        log.info(f"rank {rank}: resumed from {start} at step {state['step']}")
    source = pair_source(cfg, cfg.data.split, rank, world_size, backbone=model.backbone)
    empty_text = model.backbone.encode_text([""])  # what caption dropout swaps in for cached embeddings

    tracker = None
    if rank == 0:
        # New experiments keep their artifacts with the run (on a cluster: the storage every node sees).
        tracker = Tracker(
            cfg.tracking_uri,
            cfg.tracking.experiment,
            f"{cfg.name}-from-{state['step']}",
            cfg.run_dir,
            storage=cfg.ray.storage_path or cfg.run_dir,
            source=command,
        )
        tracker.params(flatten(cfg.model_dump(mode="json")))
        tracker.tag("resumed_from_step", str(state["step"]))
    config_json = cfg.model_dump_json(indent=2)
    history: list[dict] = []
    t_phase = {"data": 0.0, "step": 0.0}
    loop_start = time.perf_counter()
    for step in range(state["step"], cfg.max_steps):
        t0 = time.perf_counter()
        batch = source.batch(step, rank, cfg.batch_size, cfg.seed).to(device)
        generator = torch.Generator().manual_seed(step_seed(cfg.seed, step, rank, 2))
        rng = random.Random(step_seed(cfg.seed, step, rank, 3))
        t1 = time.perf_counter()
        model.hypernet.train()
        stage = "paper" if codes is None else stage_at(step, cfg.staged)
        loss, extra_metrics = module(batch, optim_cfg, generator, rng, stage, empty_text)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        aux = model.network.aux_parameters()
        aux_norm = torch.nn.utils.clip_grad_norm_(aux, optim_cfg.aux_grad_clip or float("inf"))
        hyper_norm = torch.nn.utils.clip_grad_norm_(list(model.hypernet.parameters()), float("inf"))
        optimizer.step()
        scheduler.step()
        t2 = time.perf_counter()
        t_phase["data"] += t1 - t0
        t_phase["step"] += t2 - t1
        state = {
            **state,
            "step": step + 1,
            "samples_seen": state["samples_seen"] + cfg.batch_size * world_size,
            "seconds": state["seconds"] + t2 - t0,
        }
        metrics = {
            "loss": loss.item(),
            "lr": scheduler.get_last_lr()[0],
            "grad_norm_aux": float(aux_norm),
            "grad_norm_hypernet": float(hyper_norm),
            "samples_per_s": cfg.batch_size * world_size / max(t2 - t0, 1e-9),
            "time_data_s": t1 - t0,
            "time_step_s": t2 - t1,
            "elapsed_s": t2 - loop_start,  # wall clock, so time lost outside the step (reporting) shows
            **extra_metrics,
        }
        history.append({"step": step + 1, **metrics})
        if tracker and ((step + 1) % cfg.tracking.log_every == 0 or step + 1 == cfg.max_steps):
            tracker.metrics(metrics, step + 1)
        checkpoint_dir = None
        if (step + 1) % cfg.checkpoint_every == 0 or step + 1 == cfg.max_steps:
            if rank == 0:
                extra = {f"staged.{k}": v for k, v in codes.state_dict().items()} if codes is not None else None
                checkpoint_dir = save_checkpoint(
                    ckpt_root, step + 1, model, optimizer, scheduler, state, cfg.keep_last, config_json, extra
                )
            if world_size > 1:
                torch.distributed.barrier()
        if rank == 0 and cfg.val_every and (step + 1) % cfg.val_every == 0 and step + 1 < cfg.max_steps:
            _validate(model, cfg, tracker, step + 1)
        if report is not None:
            report({"step": step + 1, **metrics}, checkpoint_dir)
    if rank == 0 and tracker:
        if state["step"] == cfg.max_steps:
            _validate(model, cfg, tracker, state["step"])
        latest = latest_checkpoint(ckpt_root)
        if latest:
            tracker.tag("final_checkpoint", str(latest.resolve()))
            tracker.artifact(latest / "train_config.json", "config")
            # The checkpoint itself, so the run keeps its model when the run directory rotates or goes.
            tracker.artifacts(latest, f"checkpoint/{latest.name}")
            if tracker.run_id:
                tracker.tag("final_checkpoint_artifact", f"runs:/{tracker.run_id}/checkpoint/{latest.name}")
        tracker.close()
    return {
        "state": state,
        "history": history,
        "phases_s": t_phase,
        "checkpoint": str(latest_checkpoint(ckpt_root)) if rank == 0 else None,
    }


def _validate(model, cfg: TrainConfig, tracker, step: int) -> None:
    if cfg.val_samples <= 0:
        return
    try:
        metrics, sheet = validate(model, cfg, step)
    except FileNotFoundError as exc:  # no committed judge yet: validation has nothing to judge with
        tracker.tag("validation", f"skipped: {exc}")
        return
    tracker.metrics(metrics, step)
    if sheet is not None:
        tracker.artifact(sheet, "contact_sheets")
    (cfg.run_dir / "validation").mkdir(parents=True, exist_ok=True)
    (cfg.run_dir / "validation" / f"step-{step:08d}.json").write_text(json.dumps(metrics, indent=2))
