"""Safetensors files whose bytes depend only on their content.

safetensors serialises the `__metadata__` map from a Rust HashMap, whose order is seeded per process: the same
LoRA saved by two processes differs in its header. A content-addressed library (and any "same input, same
bytes" check) needs one order, so the header is rewritten with sorted metadata keys, at the same length.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

import torch

from v2l.atomic import write_bytes_atomic


def canonical(data: bytes) -> bytes:
    """The same safetensors bytes with the metadata keys sorted (tensor entries keep their order)."""
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    meta = header.pop("__metadata__", None)
    ordered = ({"__metadata__": dict(sorted(meta.items()))} if meta is not None else {}) | header
    text = json.dumps(ordered, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    if len(text) > n:  # an escaping difference from the Rust writer: keep its bytes rather than guess
        return data
    return data[:8] + text + b" " * (n - len(text)) + data[8 + n :]


def save_file_canonical(tensors: dict[str, torch.Tensor], path: str | Path, metadata: dict[str, str]) -> None:
    """`safetensors.torch.save_file` with a canonical header, written atomically."""
    from safetensors.torch import save

    write_bytes_atomic(path, canonical(save(tensors, metadata=metadata)))
