"""Video and image I/O with PyAV: decode to tensors, resample to 4k+1 frames, encode H.264 mp4 atomically."""

from __future__ import annotations

import hashlib
import warnings
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from v2l.atomic import atomic_path
from v2l.errors import BadVideoError


# CogVideoX compresses time 4x and its VAE decodes latents in pairs after a first frame, so only an odd
# number of latent frames decodes back to 4T-3 frames (an even number gives 4T): valid counts are 8k+1
# (1, 9, 17, ..., 49). The 4k+1 counts in between decode to the wrong length.
FRAME_STEP = 8


class FrameCountWarning(UserWarning):
    """A video's frame count was changed by resampling."""


def is_valid_frame_count(n: int, step: int = FRAME_STEP) -> bool:
    return n >= 1 and (n - 1) % step == 0


def frame_count_hint(step: int = FRAME_STEP) -> str:
    return ", ".join(str(1 + step * k) for k in range(4)) + ", ..."


def file_sha256(path: str | Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def decode_frames(path: str | Path) -> tuple[np.ndarray, float]:
    """All frames as uint8 (F, H, W, 3) and the stream's fps; any failure names the file."""
    import av

    path = Path(path)
    if not path.is_file():
        raise BadVideoError(f"video {path} does not exist; pass the path of an mp4 (or other ffmpeg-readable) file")
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise BadVideoError(f"video {path} has no video stream (audio-only or not a video); pass a video file")
            stream = container.streams.video[0]
            fps = float(stream.average_rate or stream.guessed_rate or 8)
            frames = [f.to_ndarray(format="rgb24") for f in container.decode(stream)]
    except BadVideoError:
        raise
    except Exception as exc:
        raise BadVideoError(f"video {path} cannot be decoded ({type(exc).__name__}: {exc}); check that it is a "
                            f"complete video file, re-encode it with ffmpeg if needed") from None
    if not frames:
        raise BadVideoError(f"video {path} has no decodable frames; re-encode it with ffmpeg")
    return np.stack(frames), fps


def resample_indices(n: int, target: int) -> np.ndarray:
    """`target` indices spread evenly over [0, n): the whole clip is kept, never cut off at the end."""
    return np.round(np.linspace(0, n - 1, target)).astype(int)


def fit_frames(frames: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """(F, 3, H, W) float -> centre-cropped to the target aspect, then resized with antialiasing."""
    _, _, h, w = frames.shape
    target_ratio = width / height
    if w / h > target_ratio:
        new_w = max(1, round(h * target_ratio))
        x0 = (w - new_w) // 2
        frames = frames[..., x0 : x0 + new_w]
    else:
        new_h = max(1, round(w / target_ratio))
        y0 = (h - new_h) // 2
        frames = frames[..., y0 : y0 + new_h, :]
    if frames.shape[-2:] != (height, width):
        frames = F.interpolate(frames, size=(height, width), mode="bilinear", antialias=True, align_corners=False)
    return frames


def load_video(path: str | Path, num_frames: int | None = None, height: int | None = None,
               width: int | None = None) -> torch.Tensor:
    """A video as (3, F, H, W) in [-1, 1].

    With `num_frames`, frames are resampled evenly over the whole clip to that count. Without it, a clip
    whose count is not 8k+1 (see FRAME_STEP) is resampled to the nearest valid count. Either change is
    warned about.
    """
    raw, _ = decode_frames(path)
    n = raw.shape[0]
    target = num_frames
    if target is None and not is_valid_frame_count(n):
        target = max(1, FRAME_STEP * round((n - 1) / FRAME_STEP) + 1)
    if target is not None and not is_valid_frame_count(target):
        raise BadVideoError(f"requested frame count {target} is not {FRAME_STEP}k+1 (use {frame_count_hint()})")
    if target is not None and target != n:
        why = f"not {FRAME_STEP}k+1" if not is_valid_frame_count(n) else f"the model uses {target}"
        warnings.warn(f"video {path} has {n} frames ({why}); resampled evenly over the clip to {target} frames",
                      FrameCountWarning, stacklevel=2)
        raw = raw[resample_indices(n, target)]
    frames = torch.from_numpy(raw).permute(0, 3, 1, 2).float() / 127.5 - 1.0
    if height is not None and width is not None:
        frames = fit_frames(frames, height, width).clamp(-1, 1)
    return frames.permute(1, 0, 2, 3).contiguous()


def load_image(path: str | Path, height: int, width: int) -> torch.Tensor:
    """An image file (or a video's first frame) as (3, H, W) in [-1, 1]."""
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    if not path.is_file():
        raise BadVideoError(f"image {path} does not exist; pass a PNG or JPEG file")
    try:
        with Image.open(path) as img:
            arr = np.asarray(img.convert("RGB"))
    except (UnidentifiedImageError, OSError) as exc:
        try:
            arr = decode_frames(path)[0][0]
        except BadVideoError:
            raise BadVideoError(f"image {path} cannot be read ({exc}); pass a PNG or JPEG file") from None
    frame = torch.from_numpy(arr.copy()).permute(2, 0, 1)[None].float() / 127.5 - 1.0
    return fit_frames(frame, height, width).clamp(-1, 1)[0]


def to_uint8(frames: torch.Tensor) -> np.ndarray:
    """(3, F, H, W) in [-1, 1] -> (F, H, W, 3) uint8."""
    x = ((frames.detach().float().cpu().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    return x.permute(1, 2, 3, 0).numpy()


def write_video(path: str | Path, frames: np.ndarray, fps: int = 8, crf: int = 12) -> Path:
    """uint8 (F, H, W, 3) -> H.264 mp4 (yuv420p), written atomically. H and W must be even."""
    import av

    frames = np.asarray(frames, dtype=np.uint8)
    if frames.ndim != 4 or frames.shape[-1] != 3:
        raise ValueError(f"expected frames of shape (F, H, W, 3), got {frames.shape}")
    _, h, w, _ = frames.shape
    if h % 2 or w % 2:
        raise ValueError(f"H.264 needs even sizes, got {h}x{w}")
    with atomic_path(path, suffix=".mp4") as tmp:
        with av.open(str(tmp), mode="w", format="mp4") as container:
            stream = container.add_stream("libx264", rate=fps)
            stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
            stream.options = {"crf": str(crf)}
            for frame in frames:
                for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                    container.mux(packet)
            for packet in stream.encode():
                container.mux(packet)
    return Path(path)


def write_png(path: str | Path, image: np.ndarray) -> Path:
    from PIL import Image

    with atomic_path(path, suffix=".png") as tmp:
        Image.fromarray(np.asarray(image, dtype=np.uint8)).save(tmp, format="PNG")
    return Path(path)
