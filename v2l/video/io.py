"""Video and image I/O with PyAV: decode robustly to tensors, encode H.264 mp4 atomically (timing: `timing.py`)."""

from __future__ import annotations

import hashlib
import warnings
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from v2l.atomic import atomic_path
from v2l.errors import BadVideoError
from v2l.video.pixels import to_float

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


class MetadataWarning(UserWarning):
    """A video's container metadata could not be read as text and was ignored; the frames are fine."""


class DecodeWarning(UserWarning):
    """Some packets of a video could not be decoded and were skipped."""


VIDEO_SUFFIXES = (".mp4", ".mov", ".avi", ".mkv", ".webm", ".mpg", ".mpeg", ".ogv", ".m4v", ".wmv", ".flv", ".3gp")


def _missing_video_message(path: Path) -> str:
    if path.is_dir():
        inside = sorted(p.name for p in path.iterdir() if p.suffix.lower() in VIDEO_SUFFIXES)[:3]
        example = f" (it holds {', '.join(inside)})" if inside else ""
        return f"video {path} is a folder{example}; pass one video file, e.g. {path / (inside[0] if inside else 'clip.mp4')}"
    return f"video {path} does not exist; pass the path of an mp4 (or other ffmpeg-readable) file"


def open_video(path: str | Path):
    """An open PyAV container with a video stream; metadata that is not text is ignored with a warning.

    Container metadata (title, artist, ...) in a legacy encoding makes PyAV's strict open fail although every
    frame decodes; re-encoding keeps the metadata and fails the same way, so only stripping it repairs the file.
    """
    import av

    path = Path(path)
    if not path.is_file():
        raise BadVideoError(_missing_video_message(path))
    try:
        container = av.open(str(path))
    except UnicodeDecodeError:
        container = _open_lenient(path)
        warnings.warn(
            f"video {path} has container metadata that is not UTF-8 text; ignored it (the frames are "
            f"unaffected). To strip it: ffmpeg -i {_q(path)} -map_metadata -1 -c copy {_q(_fixed(path))}",
            MetadataWarning,
            stacklevel=3,
        )
    except Exception as exc:
        raise BadVideoError(
            f"video {path} cannot be opened ({type(exc).__name__}: {exc}); it is not a video, or an "
            f"incomplete copy (no index to read frames from, which no tool can rebuild): copy or "
            f"download the complete file again"
        ) from None
    if not container.streams.video:
        container.close()
        raise BadVideoError(f"video {path} has no video stream (audio-only or not a video); pass a video file")
    return container


def _open_lenient(path: Path):
    import av

    try:
        return av.open(str(path), metadata_errors="ignore")
    except Exception as exc:
        raise BadVideoError(
            f"video {path} cannot be opened ({type(exc).__name__}: {exc}); copy or download the complete file again"
        ) from None


def _q(path: Path) -> str:
    import shlex

    return shlex.quote(str(path))


def _fixed(path: Path) -> Path:
    return path.with_name(f"{path.stem}-fixed{path.suffix}")


def stream_fps(stream) -> float:
    """The container's frame rate, 0.0 when it does not say (callers then use timestamps)."""
    rate = stream.average_rate or stream.guessed_rate or stream.base_rate
    return float(rate) if rate else 0.0


def iter_frames(container, path: str | Path):
    """Every decodable frame (PyAV VideoFrame) of the first video stream, in presentation order.

    A packet that fails to decode is skipped (and counted in a warning at the end), so a file with a damaged
    stretch still gives its good frames; a file with no decodable frame is refused."""
    import av

    stream = container.streams.video[0]
    skipped = decoded = 0
    try:
        for packet in container.demux(stream):
            try:
                frames = packet.decode()
            except av.error.FFmpegError:
                skipped += 1
                continue
            for frame in frames:
                decoded += 1
                yield frame
    except av.error.FFmpegError as exc:  # the demuxer itself gave up: keep what decoded before
        if not decoded:
            raise BadVideoError(
                f"video {path} cannot be decoded ({type(exc).__name__}: {exc}); it is damaged: copy "
                f"or download the complete file again"
            ) from None
        warnings.warn(f"video {path} stops after {decoded} frames ({exc}); used those", DecodeWarning, stacklevel=2)
    if not decoded:
        raise BadVideoError(
            f"video {path} has no decodable frames ({skipped} damaged packets); it is damaged or "
            f"empty: copy or download the complete file again"
        )
    if skipped:
        warnings.warn(
            f"video {path}: {skipped} damaged packets could not be decoded and were skipped ({decoded} frames kept)",
            DecodeWarning,
            stacklevel=2,
        )


def decode_frames(path: str | Path) -> tuple[np.ndarray, float]:
    """All frames as uint8 (F, H, W, 3) and the stream's fps; any failure names the file."""
    with open_video(path) as container:
        fps = stream_fps(container.streams.video[0]) or 8.0
        frames = [f.to_ndarray(format="rgb24") for f in iter_frames(container, path)]
    return np.stack(frames), fps


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
    frame = to_float(torch.from_numpy(arr.copy()).permute(2, 0, 1)[None])
    return fit_frames(frame, height, width).clamp(-1, 1)[0]


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
