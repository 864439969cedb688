"""The corpus format and the bounds an input must meet to be accepted."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from v2l.errors import V2LError
from v2l.video.io import frame_count_hint, is_valid_frame_count


@dataclass(frozen=True)
class CurationRules:
    frames: int = 9  # frames per clip (CogVideoX-valid count)
    height: int = 48
    width: int = 48
    fps: int = 8
    content_size: int = 96  # side of the square content picture the semantics look through
    min_side: int = 16  # smallest accepted input width or height
    max_side: int = 8192
    max_aspect: float = 4.0  # longest side / shortest side
    min_fps: float = 1.0
    max_fps: float = 240.0
    max_seconds: float = 600.0
    max_decode_frames: int = 4000  # validation decodes at most this many frames
    blank_std: float = 2.0  # pixel std (0-255) below which a picture counts as blank

    def __post_init__(self):
        if not is_valid_frame_count(self.frames):
            raise V2LError(
                f"--frames {self.frames} is not a valid CogVideoX frame count; use one of {frame_count_hint()}"
            )
        if self.height % 2 or self.width % 2 or min(self.height, self.width) < 16:
            raise V2LError(
                f"--size {self.height}x{self.width} must be even and at least 16x16 (H.264 needs even sizes)"
            )
        if self.fps < 1:
            raise V2LError(f"fps {self.fps} must be at least 1")

    @property
    def min_seconds(self) -> float:
        return self.frames / self.fps

    def to_dict(self) -> dict:
        return asdict(self)


MAX_SIDE = 4096  # a clip side beyond this is a typo, and rendering it would exhaust memory


def parse_size(text: str) -> tuple[int, int]:
    """'48x48' -> (48, 48) (height x width)."""
    try:
        h, w = (int(x) for x in text.lower().split("x"))
    except ValueError:
        raise V2LError(f"--size {text!r} must look like HxW, for example 48x48") from None
    if not (2 <= h <= MAX_SIDE and 2 <= w <= MAX_SIDE):
        raise V2LError(f"--size {text!r} is out of range: each side must be in [2, {MAX_SIDE}]")
    return h, w
