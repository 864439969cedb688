"""Predict one reference's LoRA and write it in each requested format, atomically, under the library root.

Each reference gets its own VAE encode and hypernetwork pass, however references are batched to a worker:
a batched forward changes the last bits of the factors (measured up to 1.3e-6 on the tiny preset), which
would make a library's bytes depend on batch size and actor count. One pass per reference makes every file
a function of (reference bytes, hypernetwork) alone, byte-identical to `v2l predict` of the same file.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch

from v2l.inference.predict import write_lora
from v2l.library.index import lora_path
from v2l.lora.files import CompactLoRA, compact_metadata
from v2l.model import default_model
from v2l.video.io import file_sha256


class LoRAWriter:
    """Holds the model (loaded once); `write` turns decoded frames into files and their records."""

    def __init__(
        self,
        root: str | Path,
        model=None,
        checkpoint: str | None = None,
        preset: str = "tiny",
        backbone_weights: str | None = None,
    ):
        self.root = Path(root)
        self.model = model if model is not None else default_model(checkpoint, preset, backbone_weights)

    @torch.no_grad()
    def write(self, sha256: str, frames: np.ndarray, formats: list[str]) -> dict:
        """frames: float32 (3, F, H, W) in [-1, 1]. Returns `<fmt>_path/_bytes/_sha256` and `seconds`."""

        t0 = time.perf_counter()
        A_pred, B_pred = self.model.predict_factors(torch.from_numpy(np.array(frames, dtype=np.float32))[None])
        lora = CompactLoRA(A_pred[0], B_pred[0], compact_metadata(self.model, sha256))
        record: dict = {}
        for fmt in formats:
            rel = lora_path(sha256, fmt)
            path = write_lora(self.root / rel, lora, self.model, fmt)
            record.update({f"{fmt}_path": rel, f"{fmt}_bytes": path.stat().st_size, f"{fmt}_sha256": file_sha256(path)})
        record["seconds"] = time.perf_counter() - t0
        return record
