"""Reading safetensors files a user hands us (LoRAs, checkpoints): every failure becomes one error naming the file,
and a tensor holding NaN or infinity is refused by name before it can reach a model."""

from __future__ import annotations

from pathlib import Path

import torch
from safetensors import safe_open

from v2l.errors import V2LError


def check_finite(tensors: dict[str, torch.Tensor], source: str, fix: str, error: type[V2LError] = V2LError) -> None:
    """Raise `error` naming the first floating tensor that holds a NaN or an infinity."""
    for name, t in tensors.items():
        if t.is_floating_point() and t.device.type != "meta" and not bool(torch.isfinite(t).all()):
            bad = int((~torch.isfinite(t)).sum())
            raise error(
                f"{source} has non-finite values in tensor {name!r} ({bad:,} of {t.numel():,} are NaN or "
                f"infinite); {fix}"
            )


def read_safetensors(
    path: str | Path, what: str, fix: str, error: type[V2LError] = V2LError
) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """All tensors and the string metadata of a safetensors file; `what` names it in errors ("LoRA file"),
    `fix` says what to do. Refuses missing, empty, unreadable or foreign files and non-finite tensors."""
    path = Path(path)
    if path.is_dir():
        raise error(f"{what} {path} is a folder, not a file; pass the path of a .safetensors file")
    if not path.is_file():
        raise error(f"{what} {path} does not exist; pass the path of a .safetensors file")
    if path.stat().st_size == 0:
        raise error(f"{what} {path} is empty (0 bytes); {fix}")
    try:
        with safe_open(str(path), framework="pt") as f:
            metadata = dict(f.metadata() or {})
            tensors = {k: f.get_tensor(k) for k in f.keys()}
    except Exception as exc:  # safetensors raises several types for truncated, oversized-header or foreign files
        raise error(
            f"{what} {path} is not a readable safetensors file ({type(exc).__name__}: {exc}); it may be "
            f"truncated or another format: {fix}"
        ) from None
    check_finite(tensors, f"{what} {path}", fix, error)
    return tensors, metadata
