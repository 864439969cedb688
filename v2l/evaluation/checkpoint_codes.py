"""The staged recipe's per-semantic codes, read back from a training checkpoint (the evaluation's codes arm)."""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors.torch import load_file

from v2l.saved_model import weights_path
from v2l.world.sampler import semantics_for


def checkpoint_codes(checkpoint) -> dict[str, torch.Tensor] | None:
    """The staged recipe's per-semantic codes stored in a training checkpoint (None for the paper recipe)."""
    checkpoint = Path(checkpoint)
    tensors = load_file(str(weights_path(checkpoint)))  # older checkpoints: weights.safetensors
    if "staged.codes" not in tensors:
        return None
    cfg = json.loads((checkpoint / "train_config.json").read_text())
    names = list(cfg.get("staged", {}).get("semantics") or semantics_for("train"))
    return dict(zip(names, tensors["staged.codes"]))
