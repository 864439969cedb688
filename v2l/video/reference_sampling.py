"""How a reference clip is sampled in time (`ReferenceSampling`), kept free of torch and PyAV so that the
command line can declare its options without loading them. `v2l.video.timing` does the sampling."""

from __future__ import annotations

import math
from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field

from v2l.errors import V2LError

Window = Literal["whole", "middle", "motion"]
WINDOWS: tuple[str, ...] = ("whole", "middle", "motion")
# For user references and corpus curation alike: measured best of the three on real clips (the swap/seed
# output-change ratio and the judge's agreement; see the README's "Real reference videos").
DEFAULT_WINDOW: Window = "motion"


class ReferenceSampling(BaseModel):
    """How a reference clip is sampled in time; `fps=None` means the preset's frame rate."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    start: Optional[float] = Field(
        None, ge=0, le=86_400, allow_inf_nan=False, description="window start in seconds (overrides `window`)"
    )
    fps: Optional[float] = Field(
        None, gt=0, le=240, allow_inf_nan=False, description="sampling rate; default: the model's fps"
    )
    window: Window = DEFAULT_WINDOW


def sampling_from_options(start: float | None, fps: float | None, window: str | None) -> ReferenceSampling:
    """The command-line options `--start`, `--fps`, `--window` as a ReferenceSampling (None: the default);
    bad values name the option."""
    window = DEFAULT_WINDOW if window is None else window
    if window not in WINDOWS:
        raise V2LError(f"--window {window!r} is not one of {', '.join(WINDOWS)}")
    if start is not None and not (math.isfinite(start) and 0 <= start <= 86_400):
        raise V2LError(f"--start {start:g} must be a number of seconds from the clip's start, 0 to 86400")
    if fps is not None and not (math.isfinite(fps) and 0 < fps <= 240):
        raise V2LError(f"--fps {fps:g} must be a frame rate above 0 and at most 240, e.g. 8 (the model's)")
    return ReferenceSampling(start=start, fps=fps, window=window)
