"""A sample reference clip for demos and tests: a camera pan over a photo shipped with scikit-image (CC0)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from v2l.video.io import write_png, write_video


def photo(name: str = "astronaut", size: int = 96) -> np.ndarray:
    """A scikit-image sample photo as uint8 (size, size, 3), centre-cropped to a square."""
    import skimage.data

    img = getattr(skimage.data, name)()
    if img.ndim == 2:
        img = np.repeat(img[..., None], 3, axis=-1)
    img = img[..., :3]
    h, w = img.shape[:2]
    s = min(h, w)
    img = img[(h - s) // 2 : (h - s) // 2 + s, (w - s) // 2 : (w - s) // 2 + s]
    t = torch.from_numpy(np.ascontiguousarray(img)).permute(2, 0, 1)[None].float()
    t = F.interpolate(t, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
    return t[0].permute(1, 2, 0).round().clamp(0, 255).to(torch.uint8).numpy()


def pan_clip(name: str = "astronaut", frames: int = 9, size: int = 48, step: int = 4) -> np.ndarray:
    """uint8 (frames, size, size, 3): a window sliding right over the photo, `step` pixels per frame."""
    big = photo(name, size + step * (frames - 1))
    y0 = (big.shape[0] - size) // 2
    return np.stack([big[y0 : y0 + size, i * step : i * step + size] for i in range(frames)])


def write_sample(out_dir: str | Path, name: str = "astronaut", frames: int = 9, size: int = 48, fps: int = 8):
    """Writes `<name>_pan.mp4` and its first frame `<name>_first.png`; returns both paths."""
    out_dir = Path(out_dir)
    clip = pan_clip(name, frames, size)
    video = write_video(out_dir / f"{name}_pan.mp4", clip, fps=fps)
    image = write_png(out_dir / f"{name}_first.png", clip[0])
    return video, image
