"""A video file as the model's input tensor: decoded (`io`), sampled in time (`timing`), fitted in size."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import torch

from v2l.errors import BadVideoError
from v2l.video.io import (
    FRAME_STEP,
    DecodeWarning,
    FrameCountWarning,
    MetadataWarning,
    decode_frames,
    fit_frames,
    frame_count_hint,
    is_valid_frame_count,
)
from v2l.video.pixels import to_float
from v2l.video.reference_sampling import ReferenceSampling
from v2l.video.timing import sample_clip


def load_video(
    path: str | Path,
    num_frames: int | None = None,
    height: int | None = None,
    width: int | None = None,
    fps: float | None = None,
    sampling=None,
) -> torch.Tensor:
    """A video as (3, F, H, W) in [-1, 1].

    With `num_frames`, that many frames are taken in time as `sampling` (a `ReferenceSampling`) says, at
    `fps` (see `v2l.video.timing`). Without it, every frame; a clip whose count is not 8k+1 (see FRAME_STEP)
    is spread by timestamps over the nearest valid count. Either change is warned about.
    """
    if num_frames is not None:
        if not is_valid_frame_count(num_frames):
            raise BadVideoError(f"requested frame count {num_frames} is not {FRAME_STEP}k+1 (use {frame_count_hint()})")
        raw = sample_clip(path, num_frames, fps or 8.0, sampling).frames
    else:
        raw, source_fps = decode_frames(path)
        n = raw.shape[0]
        if not is_valid_frame_count(n):
            target = max(1, FRAME_STEP * round((n - 1) / FRAME_STEP) + 1)
            with warnings.catch_warnings():  # the file's faults were reported by the first decode
                warnings.simplefilter("ignore", MetadataWarning)
                warnings.simplefilter("ignore", DecodeWarning)
                raw = sample_clip(path, target, source_fps, ReferenceSampling(window="whole"), warn=False).frames
            warnings.warn(
                f"video {path} has {n} frames (not {FRAME_STEP}k+1); took {target} frames spread evenly over the clip",
                FrameCountWarning,
                stacklevel=2,
            )
    frames = to_float(torch.from_numpy(np.ascontiguousarray(raw)).permute(0, 3, 1, 2))
    if height is not None and width is not None:
        frames = fit_frames(frames, height, width).clamp(-1, 1)
    return frames.permute(1, 0, 2, 3).contiguous()
