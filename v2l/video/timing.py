"""Which moments of a real clip the model sees: a window of its frame count at its frame rate, by timestamps.

The hypernetwork was trained on references of `num_frames` frames at the preset's fps (9 at 8 fps: 1 s of
motion). A user's clip is longer and faster (10 s at 30 fps), so squeezing all of it into 9 frames shows a
slideshow of jump cuts the model never saw. Instead the frames are taken at the model's rate from a window:

* ``motion``: the window whose frames, at the model's rate, differ most from one another (a cut or a flash
  counts as motion too): the default, see the README's "Real reference videos" for the measurement behind
  the choice;
* ``middle``: the window centred in the clip;
* ``whole``: the frames spread evenly over the whole clip (the old behaviour).

``start`` puts the window at that second instead. A clip shorter than the window gives its whole length,
spread over the frame count (a faster frame rate than the model's), and says so. Frames are picked by their
presentation timestamps (the frame shown at each sample time), never by index, so a variable frame rate or
a stream that does not start at zero is sampled at the right moments.

Corpus curation (real clips ingested for the `real` split) and `v2l predict` / `generate` both sample
through `sample_clip`, so a user's clip reaches the hypernetwork as the corpus's real clips do.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from v2l.errors import BadVideoError, V2LError
from v2l.video.io import DecodeWarning, FrameCountWarning, MetadataWarning, iter_frames, open_video, stream_fps
from v2l.video.reference_sampling import DEFAULT_WINDOW, WINDOWS, ReferenceSampling, Window, sampling_from_options

__all__ = [
    "DEFAULT_WINDOW",
    "WINDOWS",
    "ReferenceSampling",
    "SampledClip",
    "TimingWarning",
    "Window",
    "sample_clip",
    "sampling_from_options",
]

# Side of the grey thumbnails the motion window is scored on: enough to see a pan, cheap for long clips.
_THUMB = 32


class TimingWarning(FrameCountWarning):
    """The frames taken from a clip are not simply all of its frames: says which seconds and rate were used."""


@dataclass(frozen=True)
class SampledClip:
    frames: np.ndarray  # uint8 (count, H, W, 3)
    times: np.ndarray  # presentation time (s, from the clip's first frame) of each frame taken
    sample_times: np.ndarray  # the times asked for; `times` are the nearest frames to these
    fps: float  # the rate the frames were taken at (the model's, unless the clip is short)
    start: float
    end: float  # time of the last frame taken
    duration: float  # of the whole clip
    source_fps: float
    source_frames: int
    how: str  # "middle" | "motion" | "whole" | "start" | "short"

    @property
    def unchanged(self) -> bool:
        """The clip's own frames, all of them, at their own rate: nothing to warn about."""
        return (
            self.source_frames == len(self.frames)
            and len(set(self.times.tolist())) == len(self.frames)
            and abs(self.source_fps - self.fps) < 1e-3 * self.fps
        )

    def describe(self) -> str:
        what = {
            "middle": "the middle of",
            "motion": "the most moving window of",
            "whole": "all of",
            "start": "",
            "short": "all of",
        }[self.how]
        what = (what + " ") if what else ""
        text = (
            f"took {len(self.frames)} frames at {self.fps:.3g} fps from {self.start:.2f}-{self.end:.2f} s "
            f"({what}a {self.duration:.2f} s clip at {self.source_fps:.3g} fps, {self.source_frames} frames)"
        )
        if self.how == "short":
            text += "; the clip is shorter than the model's window, so its frames are spread over the whole clip"
        return text


def window_span(count: int, fps: float) -> float:
    """Seconds between the first and the last of `count` frames at `fps`."""
    return (count - 1) / fps


def nearest_frames(frame_times: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Index of the frame whose timestamp is nearest each wanted time (ties: the earlier frame)."""
    right = np.searchsorted(frame_times, wanted, side="left").clip(0, len(frame_times) - 1)
    left = (right - 1).clip(0, None)
    take_left = np.abs(frame_times[left] - wanted) <= np.abs(frame_times[right] - wanted)
    return np.where(take_left, left, right)


def motion_start(frame_times: np.ndarray, thumbs: np.ndarray, count: int, fps: float) -> float:
    """Start of the window whose samples at `fps` differ most from one another (mean absolute difference)."""
    span = window_span(count, fps)
    starts = frame_times[frame_times <= max(0.0, frame_times[-1] - span) + 1e-6]
    scores = []
    for s in starts:
        idx = nearest_frames(frame_times, s + np.arange(count) / fps)
        scores.append(float(np.abs(np.diff(thumbs[idx], axis=0)).mean()))
    return float(starts[int(np.argmax(scores))])


def plan_sample_times(
    frame_times: np.ndarray,
    count: int,
    fps: float,
    sampling: ReferenceSampling,
    thumbs: np.ndarray | None = None,
    source_fps: float = 0.0,
) -> tuple[np.ndarray, str, float]:
    """(times to sample, how, the rate they are spaced at) for a clip whose frames show at `frame_times`.

    The last frame is shown for one source frame, so a window may end up to half a source frame after it
    (a 1 s clip at 25 fps ends at 0.96 s and still holds 9 frames at 8 fps)."""
    span = window_span(count, fps)
    last = float(frame_times[-1])
    fits = last + (0.5 / source_fps if source_fps else 0.0) + 1e-6 >= span
    if sampling.window == "whole" and sampling.start is None:
        return np.linspace(0.0, last, count), "whole", (count - 1) / last if last > 0 and count > 1 else fps
    if not fits:
        if sampling.start:
            raise V2LError(
                f"--start {sampling.start:g} s: the clip's frames span {last:.2f} s, less than the "
                f"{span:.2f} s between the first and last of {count} frames at {fps:g} fps; leave out "
                f"--start (the whole clip is then used)"
            )
        return np.linspace(0.0, last, count), "short", (count - 1) / last if last > 0 and count > 1 else fps
    if sampling.start is not None:
        if sampling.start > max(0.0, last - span) + 1e-6:
            raise V2LError(
                f"--start {sampling.start:g} s leaves less than the {span:.2f} s window of {count} frames "
                f"at {fps:g} fps in a clip whose last frame is at {last:.2f} s; use --start "
                f"{np.floor(max(0.0, last - span) * 100) / 100:.2f} or less"
            )  # rounded down: it works
        start, how = float(sampling.start), "start"
    elif sampling.window == "motion":
        start, how = motion_start(frame_times, thumbs, count, fps), "motion"
    else:
        start, how = max(0.0, last - span) / 2, "middle"
    return start + np.arange(count) / fps, how, fps


def _thumb(frame) -> np.ndarray:
    return frame.reformat(width=_THUMB, height=_THUMB, format="gray").to_ndarray().astype(np.float32)


def _scan(path: Path, want_thumbs: bool) -> tuple[np.ndarray, float, np.ndarray | None]:
    """Pass 1: every frame's presentation time (from the first frame), the stream fps, optional thumbnails."""
    times, thumbs = [], []
    with open_video(path) as container:
        fps = stream_fps(container.streams.video[0])
        for frame in iter_frames(container, path):
            times.append(frame.time)
            if want_thumbs:
                thumbs.append(_thumb(frame))
    times_arr = _clean_times(times, fps)
    if not fps:
        fps = 1 / float(np.median(np.diff(times_arr))) if len(times_arr) > 1 else 8.0
    return times_arr, fps, (np.stack(thumbs) if want_thumbs else None)


def _clean_times(times: list, fps: float) -> np.ndarray:
    """Timestamps from 0; a stream without usable timestamps (missing or not increasing) falls back to index / fps."""
    if any(t is None for t in times) or (len(times) > 1 and np.any(np.diff(np.asarray(times, float)) <= 0)):
        return np.arange(len(times)) / (fps or 8.0)
    arr = np.asarray(times, dtype=np.float64)
    return arr - arr[0]


def sample_clip(
    path: str | Path, count: int, fps: float, sampling: ReferenceSampling | None = None, warn: bool = True
) -> SampledClip:
    """`count` frames of the clip at `path`, taken as `sampling` says at `fps` (unless `sampling.fps` is set).

    Two decoding passes: timestamps (and, for the motion window, small thumbnails) first, then only the
    chosen frames are converted, so a long high-resolution clip never sits in memory whole."""
    path = Path(path)
    sampling = sampling or ReferenceSampling()
    fps = float(sampling.fps or fps)
    if count < 1:
        raise ValueError(f"count must be at least 1, got {count}")
    frame_times, source_fps, thumbs = _scan(path, sampling.window == "motion" and sampling.start is None)
    wanted, how, rate = plan_sample_times(frame_times, count, fps, sampling, thumbs, source_fps)
    idx = nearest_frames(frame_times, wanted)
    keep = {int(i): None for i in idx}
    with warnings.catch_warnings():  # pass 1 already said what is wrong with the file
        warnings.simplefilter("ignore", MetadataWarning)
        warnings.simplefilter("ignore", DecodeWarning)
        with open_video(path) as container:
            for i, frame in enumerate(iter_frames(container, path)):
                if i in keep:
                    keep[i] = frame.to_ndarray(format="rgb24")
                if i >= max(keep):
                    break
    if any(v is None for v in keep.values()):  # a second decode gave fewer frames than the first
        raise BadVideoError(
            f"video {path} gave fewer frames on a second read than on the first; it changed while "
            f"being read or is damaged: copy it again"
        )
    frames = np.stack([keep[int(i)] for i in idx])
    times = frame_times[idx]
    clip = SampledClip(
        frames,
        times,
        wanted,
        rate,
        float(times[0]),
        float(times[-1]),
        float(frame_times[-1] + 1 / source_fps),
        source_fps,
        len(frame_times),
        how,
    )
    if warn and not clip.unchanged:
        warnings.warn(f"video {path}: {clip.describe()}", TimingWarning, stacklevel=2)
    return clip
