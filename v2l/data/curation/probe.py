"""Probe a media file with PyAV (no ffprobe needed): container, streams, size, fps, duration, frame count."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

# Demuxers that mean "this is a still image", whatever the file is called.
IMAGE_DEMUXERS = (
    "image2",
    "png_pipe",
    "jpeg_pipe",
    "bmp_pipe",
    "webp_pipe",
    "tiff_pipe",
    "gif",
    "gif_pipe",
    "ppm_pipe",
    "pgm_pipe",
    "qoi_pipe",
)


@dataclass(frozen=True)
class ProbeInfo:
    format: str
    has_video: bool
    has_audio: bool
    codec: str = ""
    width: int = 0
    height: int = 0
    fps: float = 0.0
    duration: float = 0.0  # seconds; 0 when the container does not say
    declared_frames: int = 0  # 0 when the container does not say

    @property
    def is_image_format(self) -> bool:
        return any(d in self.format.split(",") for d in IMAGE_DEMUXERS)


class ProbeError(Exception):
    def __init__(self, reason: str, detail: str):
        super().__init__(detail)
        self.reason, self.detail = reason, detail


def info_of(c) -> ProbeInfo:
    """ProbeInfo of an open PyAV input container."""
    video = c.streams.video[0] if c.streams.video else None
    has_audio = bool(c.streams.audio)
    fmt = c.format.name or ""
    if video is None:
        return ProbeInfo(format=fmt, has_video=False, has_audio=has_audio)
    rate = video.average_rate or video.guessed_rate or video.base_rate
    duration = 0.0
    if video.duration is not None and video.time_base is not None:
        duration = float(video.duration * video.time_base)
    elif c.duration is not None:
        duration = c.duration / 1_000_000
    return ProbeInfo(
        format=fmt,
        has_video=True,
        has_audio=has_audio,
        codec=video.codec_context.name or "",
        width=int(video.codec_context.width or 0),
        height=int(video.codec_context.height or 0),
        fps=float(rate) if rate else 0.0,
        duration=duration,
        declared_frames=int(video.frames or 0),
    )


def open_media(path: str | Path):
    """An open PyAV container; any demuxer failure becomes ProbeError("unreadable")."""
    import av

    try:
        return av.open(str(path), metadata_errors="ignore")
    except Exception as exc:  # the file is not a media file we can read
        raise ProbeError(
            "unreadable",
            f"cannot be opened as a video ({type(exc).__name__}: {exc}); "
            f"check that it is a complete video file, or re-encode it with ffmpeg",
        ) from None


def probe(path: str | Path) -> ProbeInfo:
    with open_media(path) as c:
        try:
            return info_of(c)
        except Exception as exc:
            raise ProbeError(
                "unreadable",
                f"has unreadable stream information ({type(exc).__name__}: {exc}); re-encode it with ffmpeg",
            ) from None
