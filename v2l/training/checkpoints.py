"""Hypernetwork training checkpoints: weights as safetensors, optimizer, scheduler and train state in the shared
step folders of `v2l.checkpointing` (atomic, a `latest` pointer, the last K kept).
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from v2l.cards.lineage import check_trained_on
from v2l.checkpointing import latest_step, write_step
from v2l.saved_model import MODEL_FILE, weights_path


def save_checkpoint(
    root: str | Path,
    step: int,
    model,
    optimizer,
    scheduler,
    state: dict,
    keep_last: int,
    config_json: str,
    extra: dict[str, torch.Tensor] | None = None,
) -> Path:
    """`extra` tensors (e.g. the staged recipe's codes) are stored beside the model's, under their own names."""
    tensors = {**model.trainable_state_dict(), **(extra or {})}

    def write(folder: Path) -> None:
        save_file(
            {k: v.detach().float().contiguous().cpu() for k, v in tensors.items()},
            str(folder / MODEL_FILE),
            metadata={"format": "v2l-checkpoint/1", "version": model.version()},
        )
        (folder / "config.json").write_text(model.cfg.model_dump_json(indent=2))
        (folder / "train_config.json").write_text(config_json)
        torch.save(optimizer.state_dict(), folder / "optimizer.pt")
        torch.save(scheduler.state_dict(), folder / "scheduler.pt")
        (folder / "state.json").write_text(json.dumps({**state, "step": step}))

    return write_step(root, step, write, keep_last)


def latest_checkpoint(root: str | Path) -> Path | None:
    return latest_step(root, "state.json")


def load_checkpoint(
    path: str | Path, model, optimizer, scheduler, extra: torch.nn.Module | None = None, extra_prefix: str = "staged."
) -> dict:
    """Restore weights, optimizer and scheduler in place; returns the train state (step, samples, ...)."""
    path = Path(path)
    tensors = load_file(str(weights_path(path)))  # older checkpoints: weights.safetensors
    model.load_trainable_state_dict(tensors)
    if extra is not None:
        extra.load_state_dict({k[len(extra_prefix) :]: v for k, v in tensors.items() if k.startswith(extra_prefix)})
    optimizer.load_state_dict(torch.load(path / "optimizer.pt", weights_only=True))
    scheduler.load_state_dict(torch.load(path / "scheduler.pt", weights_only=True))
    return json.loads((path / "state.json").read_text())


def check_same_backbone(path: str | Path, fingerprint: dict) -> None:
    """Refuse to resume a checkpoint trained on other backbone weights: its LoRAs were fitted to those."""
    fix = f"start a fresh run: move {Path(path).parent} aside or set another run_dir"
    check_trained_on(path, fingerprint, fix)
