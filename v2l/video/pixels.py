"""Pixel range conversions, in one place: uint8 [0, 255] <-> float [-1, 1], the range the VAE reads and writes.

Clips are kept as uint8 wherever they are stored in bulk (pools, caches, shards: 4x smaller than floats) and
converted per batch.
"""

from __future__ import annotations

import numpy as np
import torch


def to_float(x: torch.Tensor) -> torch.Tensor:
    """uint8 in [0, 255] -> float32 in [-1, 1], any layout."""
    return x.float() / 127.5 - 1.0


def to_uint8(x: torch.Tensor) -> torch.Tensor:
    """float in [-1, 1] -> uint8 in [0, 255], any layout; values outside the range are clipped."""
    return ((x.detach().float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)


def video_to_frames(video: torch.Tensor) -> np.ndarray:
    """A video (3, F, H, W) in [-1, 1] -> uint8 frames (F, H, W, 3), as video files and images hold them."""
    return to_uint8(video.cpu()).permute(1, 2, 3, 0).numpy()


def frames_to_video(frames: np.ndarray) -> torch.Tensor:
    """uint8 frames (F, H, W, 3) -> a video (3, F, H, W) in [-1, 1]. In numpy: torch's threaded kernels on clips
    this small cost 3x the decode when other jobs share the cores."""
    x = np.ascontiguousarray(np.asarray(frames).transpose(3, 0, 1, 2)).astype(np.float32)
    x /= 127.5
    x -= 1.0
    return torch.from_numpy(x)
