"""Hypernetwork prediction latency for one reference, VAE latents given (tiny and CogVideoX-5B shapes)."""

from __future__ import annotations

import torch

from benchmarks.common import median_seconds, write_result
from v2l.config import HypernetConfig, LoRAConfig
from v2l.hypernet.model import Hypernetwork


@torch.no_grad()
def latency(latent_shape: tuple[int, ...], modules: int, repeats: int) -> dict:
    cfg = LoRAConfig()
    torch.manual_seed(0)
    net = Hypernetwork(latent_shape[1], modules, cfg.numbers_per_module, HypernetConfig()).eval()
    latents = torch.randn(latent_shape)
    seconds = median_seconds(lambda: net(latents), repeats=repeats, warmup=1)
    return {
        "latent_shape": list(latent_shape),
        "reference_tokens": int(torch.tensor(latent_shape[2:]).prod()),
        "modules": modules,
        "seconds": seconds,
        "params": sum(p.numel() for p in net.parameters()),
    }


def run() -> dict:
    result = {
        # tiny: 9 frames of 48x48 -> 8 x 3 x 12 x 12 latents, 24 wrapped modules.
        "tiny": latency((1, 8, 3, 12, 12), 24, repeats=21),
        # CogVideoX-5B I2V: 49 frames of 480x720 -> 16 x 13 x 60 x 90 latents, 168 wrapped modules.
        "cogvideox_5b": latency((1, 16, 13, 60, 90), 168, repeats=3),
    }
    write_result("hypernet_latency", result)
    return result


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
