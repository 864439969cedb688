"""Normalise a video to the corpus format: the frames `v2l.video.timing` takes (the model's window at its fps,
the same sampler `v2l predict` uses on a user's clip), centre-cropped and scaled by ffmpeg, H.264 mp4.

Bit-exact flags and stripped metadata make the output depend only on the input and the rules, so corpus
builds are reproducible on one machine.
"""

from __future__ import annotations

from pathlib import Path

from v2l.atomic import atomic_path
from v2l.data.curation.ffmpeg_exe import ffmpeg_exe
from v2l.data.curation.rules import CurationRules
from v2l.video.timing import sample_clip


class NormaliseError(Exception):
    pass


def normalise_video(
    src: str | Path, dst: str | Path, rules: CurationRules, exe: str | None = None, sampling=None
) -> Path:
    """`rules.frames` frames at `rules.fps` from the window `sampling` chooses (default: the default window,
    as for a user's reference), scaled to cover then centre-cropped to HxW, yuv420p H.264."""
    import ffmpeg

    try:
        clip = sample_clip(src, rules.frames, rules.fps, sampling, warn=False)
    except Exception as exc:  # BadVideoError, or a --start that does not fit
        raise NormaliseError(str(exc)) from None
    n, h0, w0, _ = clip.frames.shape
    w, h = rules.width, rules.height
    with atomic_path(dst, suffix=".mp4") as tmp:
        stream = (
            ffmpeg.input("pipe:", format="rawvideo", pix_fmt="rgb24", s=f"{w0}x{h0}", framerate=rules.fps)
            .video.filter("scale", w, h, force_original_aspect_ratio="increase", flags="bicubic")
            .filter("crop", w, h)
            .filter("setsar", 1)
            .output(
                str(tmp),
                vframes=n,
                vcodec="libx264",
                pix_fmt="yuv420p",
                crf=12,
                preset="medium",
                an=None,
                map_metadata=-1,
                movflags="+faststart",
                threads=1,
                **{"fflags": "+bitexact", "flags:v": "+bitexact", "x264-params": "threads=1"},
            )
            .global_args("-nostdin", "-loglevel", "error")
            .overwrite_output()
        )
        try:
            stream.run(cmd=exe or ffmpeg_exe(), input=clip.frames.tobytes(), capture_stdout=True, capture_stderr=True)
        except ffmpeg.Error as exc:
            msg = (exc.stderr or b"").decode("utf-8", "replace").strip().splitlines()
            raise NormaliseError(msg[-1] if msg else "ffmpeg failed") from None
    return Path(dst)
