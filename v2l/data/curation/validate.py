"""Validation of one input against the rules: reads pixels, checks bounds, returns what curation needs.

Each check raises `Reject(reason, detail)`; the detail names what is wrong and what to do about it.
Videos are decoded frame by frame and only a few frames are kept, so a long 4K clip cannot exhaust memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from v2l.data.curation.probe import ProbeError, ProbeInfo, info_of, open_media, probe
from v2l.data.curation.rules import CurationRules

IMAGE_EXTS = {".png", ".jpg", ".jpeg", ".bmp", ".webp", ".gif", ".tif", ".tiff"}
VIDEO_EXTS = {".mp4", ".mov", ".avi", ".mkv", ".webm", ".mpg", ".mpeg", ".ogv", ".m4v", ".wmv", ".flv", ".3gp"}


class Reject(Exception):
    def __init__(self, reason: str, detail: str):
        super().__init__(detail)
        self.reason, self.detail = reason, detail


@dataclass
class CheckedVideo:
    info: ProbeInfo
    first_frame: np.ndarray  # uint8 (H, W, 3)
    decoded_frames: int


def check_bounds(width: int, height: int, rules: CurationRules) -> None:
    if min(width, height) < rules.min_side or max(width, height) > rules.max_side:
        raise Reject(
            "bad_resolution", f"is {width}x{height}; sides must be between {rules.min_side} and {rules.max_side} pixels"
        )
    if max(width, height) / min(width, height) > rules.max_aspect:
        raise Reject(
            "bad_resolution",
            f"is {width}x{height}, an aspect ratio above {rules.max_aspect:g}:1; crop it closer to square",
        )


def check_not_blank(frames: list[np.ndarray], rules: CurationRules) -> None:
    if max(float(f.astype(np.float32).std()) for f in frames) < rules.blank_std:
        raise Reject("blank", "has no visible content (a single flat colour); remove it")


def _looks_like_video(path: Path) -> bool:
    try:
        info = probe(path)
    except ProbeError:
        return False
    return info.has_video and not info.is_image_format


def _looks_like_image(path: Path) -> str | None:
    from PIL import Image

    try:
        with Image.open(path) as img:
            return img.format
    except Exception:
        return None


def check_image(path: Path, rules: CurationRules) -> np.ndarray:
    """The picture as uint8 (H, W, 3)."""
    from PIL import Image

    try:
        img = Image.open(path)
    except Image.DecompressionBombError as exc:
        raise Reject("bad_resolution", f"is too large to decode safely ({exc})") from None
    except Exception as exc:
        if _looks_like_video(path):
            raise Reject("wrong_extension", f"is a video but named {path.suffix!r}; rename it to .mp4") from None
        raise Reject(
            "unreadable", f"cannot be read as an image ({type(exc).__name__}); re-save it as PNG or JPEG"
        ) from None
    with img:
        check_bounds(img.width, img.height, rules)  # from the header, before decoding any pixels
        try:
            arr = np.asarray(img.convert("RGB"))
        except Exception as exc:
            raise Reject("unreadable", f"is a damaged image ({type(exc).__name__}: {exc}); re-save it") from None
    check_not_blank([arr], rules)
    return arr


def check_video(path: Path, rules: CurationRules) -> CheckedVideo:
    try:
        container = open_media(path)
    except ProbeError as exc:
        fmt = _looks_like_image(path)
        if fmt:
            raise Reject("wrong_extension", f"is a {fmt} image but named {path.suffix!r}; rename it") from None
        raise Reject(exc.reason, exc.detail) from None
    with container as c:  # one open for probing and decoding
        try:
            info = info_of(c)
        except Exception as exc:
            raise Reject(
                "unreadable", f"has unreadable stream information ({type(exc).__name__}); re-encode it"
            ) from None
        _check_video_info(path, info, rules)
        kept: list[np.ndarray] = []
        n = 0
        try:
            stream = c.streams.video[0]
            for frame in c.decode(stream):
                if n % 16 == 0 and len(kept) < 8:
                    kept.append(frame.to_ndarray(format="rgb24"))
                n += 1
                if n >= rules.max_decode_frames:
                    break
        except Exception as exc:
            if n == 0 and not info.declared_frames:
                raise Reject(
                    "unreadable", f"cannot be decoded ({type(exc).__name__}: {exc}); re-encode it with ffmpeg"
                ) from None
            raise Reject(
                "truncated",
                f"stops decoding after {n} of {info.declared_frames or '?'} frames "
                f"({type(exc).__name__}); the file is damaged or incomplete: copy it again or re-encode "
                f"it",
            ) from None
    if n == 0:
        raise Reject("unreadable", "has no decodable frames; re-encode it with ffmpeg")
    if info.declared_frames and n < min(info.declared_frames, rules.max_decode_frames) * 0.9:
        raise Reject(
            "truncated",
            f"declares {info.declared_frames} frames but only {n} decode; the file is incomplete: copy it again",
        )
    if n < rules.max_decode_frames and n / info.fps * rules.fps < rules.frames - 0.5:
        raise Reject(
            "too_short",
            f"has {n} frames at {info.fps:g} fps ({n / info.fps:.2f} s); a clip needs "
            f"{rules.frames} frames at {rules.fps} fps ({rules.min_seconds:.2f} s)",
        )
    check_not_blank(kept, rules)
    return CheckedVideo(info, kept[0], n)


def _check_video_info(path: Path, info: ProbeInfo, rules: CurationRules) -> None:
    if info.has_video and info.is_image_format:
        raise Reject(
            "wrong_extension",
            f"is a still image ({info.format}) but named {path.suffix!r}; rename it to match its type (.png, .jpg)",
        )
    if not info.has_video:
        raise Reject("no_video_stream", "has no video stream (audio only?); pass a video file")
    check_bounds(info.width, info.height, rules)
    if not (rules.min_fps <= info.fps <= rules.max_fps):
        raise Reject(
            "bad_fps",
            f"has {info.fps:g} fps; accepted is {rules.min_fps:g}-{rules.max_fps:g}; re-encode it with ffmpeg -r",
        )
    if info.duration > rules.max_seconds:
        raise Reject(
            "too_long",
            f"lasts {info.duration:.0f} s, above the {rules.max_seconds:.0f} s limit; cut it into shorter clips",
        )
