"""The three options that say how a reference video is sampled in time, declared once for every command that
reads references (`v2l predict`, `v2l generate`, `v2l library build`, `v2l eval` for its `real` split).

They become a `v2l.video.timing.ReferenceSampling` through `v2l.video.reference_sampling.sampling_from_options` (one path,
one set of checks).
"""

from __future__ import annotations

from v2l.cli.options import float_option, text_option
from v2l.video.reference_sampling import DEFAULT_WINDOW, WINDOWS

START_MAX_S = 86_400.0  # a day: any later start is a typo


def start_option():
    return float_option(
        None, "--start", lo=0.0, hi=START_MAX_S, help="reference: take the window from this second (overrides --window)"
    )


def fps_option():
    return float_option(
        None,
        "--fps",
        lo=0.0,
        hi=240.0,
        lo_open=True,
        help="reference: frames per second to sample at (default: the preset's, 8)",
    )


def window_option():
    return text_option(
        None, "--window", help=f"reference: {' | '.join(WINDOWS)} (which stretch of the clip; default {DEFAULT_WINDOW})"
    )


def given(start: float | None, fps: float | None, window: str | None) -> bool:
    """Whether any of --start, --fps, --window was passed."""
    return any(v is not None for v in (start, fps, window))
