"""Does the reference steer the output? On the project's real clips (`v2l content fetch`) as references, the
mean pixel change (/255) when the reference is swapped against when the seed is changed, for each way of
sampling the reference in time (`whole`: the old whole-clip squeeze; `middle`, `motion`: the model's window).

Writes benchmarks/results/reference_sensitivity.json. Real content comes from V2L_REAL_CONTENT, else
runs/content (fetched there with the registries' clients if missing).
"""

from __future__ import annotations

import itertools
import os
import warnings
from pathlib import Path

import numpy as np
import torch

from benchmarks.common import write_result

IMAGES = ("astronaut", "coffee", "chelsea")  # first frames: scikit-image photos, none of them a reference
SEEDS = (0, 1)
STEPS = 25  # the command line's default


def _clips(content: Path) -> list[Path]:
    from v2l.video.io import VIDEO_SUFFIXES

    return sorted(p for p in content.iterdir() if p.suffix.lower() in VIDEO_SUFFIXES)


def _u8(videos: torch.Tensor) -> np.ndarray:
    return ((videos.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).numpy().astype(np.int16)


def measure(content: Path, windows=("whole", "middle", "motion"), steps: int = STEPS) -> dict:
    from v2l.data.content.photos import load_photo
    from v2l.inference.generate import generate
    from v2l.inference.predict import stored_lora
    from v2l.model import default_model
    from v2l.video.timing import ReferenceSampling

    model = default_model(None, "tiny", None)
    spec = model.backbone.spec
    clips = _clips(content)
    images = torch.stack(
        [torch.from_numpy(load_photo(n, spec.height).copy()).permute(2, 0, 1).float() / 127.5 - 1 for n in IMAGES]
    )
    out = {
        "clips": [c.name for c in clips],
        "images": list(IMAGES),
        "seeds": list(SEEDS),
        "steps": steps,
        "windows": {},
    }
    for window in windows:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            loras = [stored_lora(model, c, sampling=ReferenceSampling(window=window)) for c in clips]
        A = torch.stack([l.A_pred for l in loras])
        B = torch.stack([l.B_pred for l in loras])
        videos = {}  # (image, seed) -> uint8 (n_clips, 3, F, H, W)
        for i, s in itertools.product(range(len(IMAGES)), SEEDS):
            batch = images[i : i + 1].expand(len(clips), -1, -1, -1)
            videos[i, s] = _u8(generate(model, batch, ["a photo"] * len(clips), A, B, steps=steps, seed=s))
        swap = [
            np.abs(v[a] - v[b]).mean() / 255
            for v in videos.values()
            for a, b in itertools.combinations(range(len(clips)), 2)
        ]
        seed = [
            np.abs(videos[i, SEEDS[0]][r] - videos[i, SEEDS[1]][r]).mean() / 255
            for i in range(len(IMAGES))
            for r in range(len(clips))
        ]
        lora_spread = float(torch.pdist(torch.cat([A.flatten(1), B.flatten(1)], 1)).mean())
        out["windows"][window] = {
            "reference_swap": float(np.mean(swap)),
            "seed_change": float(np.mean(seed)),
            "swap_over_seed": float(np.mean(swap) / np.mean(seed)),
            "lora_mean_pairwise_l2": lora_spread,
        }
        print(window, out["windows"][window], flush=True)
    return out


def run() -> dict:
    content = Path(os.environ.get("V2L_REAL_CONTENT", "runs/content"))
    if not content.is_dir() or not _clips(content):
        from v2l.data.content.fetch import fetch

        fetch(content)
    result = measure(content)
    result["note"] = (
        "tiny world on CPU; pixel differences do not depend on machine load. "
        "whole = the old behaviour (9 frames spread over the whole clip)"
    )
    write_result("reference_sensitivity", result)
    return result
