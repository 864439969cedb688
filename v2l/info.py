"""Sizes of a preset's Video2LoRA, computed from the model built on the `meta` device (never typed in)."""

from __future__ import annotations

import torch

from v2l.backbones import get_spec
from v2l.config import V2LConfig
from v2l.hypernet.model import Hypernetwork
from v2l.lora.files import COMPACT_FORMAT, compact_bytes
from v2l.lora.lightlora import LightLoRANetwork

BF16_BYTES = 2


def preset_info(preset: str, cfg: V2LConfig | None = None) -> dict:
    spec = get_spec(preset)
    cfg = cfg or V2LConfig(preset=preset)
    transformer = spec.meta_transformer()
    network = LightLoRANetwork(transformer, cfg.lora)
    with torch.device("meta"):
        hypernet = Hypernetwork(spec.latent_channels(), len(network), cfg.lora.numbers_per_module, cfg.hypernet)
    n = len(network)
    per_module = cfg.lora.numbers_per_module
    aux_params = sum(p.numel() for p in network.aux_parameters())
    # A real compact file: zero factors of the right shape and metadata with full-length hashes.
    r, a, b = cfg.lora.r, cfg.lora.a, cfg.lora.b
    meta = {
        "format": COMPACT_FORMAT,
        "backbone": preset,
        "hypernet_sha256": "0" * 64,
        "modules_sha256": "0" * 64,
        "r": str(r),
        "a": str(a),
        "b": str(b),
        "scale": repr(float(cfg.lora.scale)),
        "reference_sha256": "0" * 64,
    }
    compact = compact_bytes(torch.zeros(n, r, a), torch.zeros(n, b, r), meta)
    return {
        "preset": preset,
        "backbone_params": sum(p.numel() for p in transformer.parameters()) - aux_params,
        "lora_modules": n,
        "target_modules": list(cfg.lora.target_modules),
        "rank": r,
        "a": a,
        "b": b,
        "numbers_per_module": per_module,
        "numbers_per_reference": n * per_module,
        "compact_bytes_bf16": len(compact),
        "aux_params": aux_params,
        "aux_bytes_bf16": aux_params * BF16_BYTES,
        "hypernet_params": sum(p.numel() for p in hypernet.parameters()),
        "hypernet_bytes_bf16": sum(p.numel() for p in hypernet.parameters()) * BF16_BYTES,
        "latent_channels": spec.latent_channels(),
        "frames": spec.num_frames,
        "height": spec.height,
        "width": spec.width,
        "fps": spec.fps,
    }
