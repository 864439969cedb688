"""A sample reference clip for demos and tests: a camera pan over a photo shipped with scikit-image (CC0)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from v2l.data.content.photos import load_photo
from v2l.video.io import write_png, write_video


def pan_clip(name: str = "astronaut", frames: int = 9, size: int = 48, step: int = 4) -> np.ndarray:
    """uint8 (frames, size, size, 3): a window sliding right over the photo, `step` pixels per frame."""
    big = load_photo(name, size + step * (frames - 1))
    y0 = (big.shape[0] - size) // 2
    return np.stack([big[y0 : y0 + size, i * step : i * step + size] for i in range(frames)])


def write_sample(out_dir: str | Path, name: str = "astronaut", frames: int = 9, size: int = 48, fps: int = 8):
    """Writes `<name>_pan.mp4` and its first frame `<name>_first.png`; returns both paths."""
    out_dir = Path(out_dir)
    clip = pan_clip(name, frames, size)
    video = write_video(out_dir / f"{name}_pan.mp4", clip, fps=fps)
    image = write_png(out_dir / f"{name}_first.png", clip[0])
    return video, image
