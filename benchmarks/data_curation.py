"""Curation throughput (clips/s) against a bare ffmpeg transcode of the same clips to the same settings.

Curation = probe + decode-validate + ffmpeg normalise + decode-check + dedupe hash + content PNG, per clip.
The bare transcode runs the same ffmpeg binary with the same filters and encoder settings, nothing else.
Ratio = curation clips/s / bare clips/s (target >= 0.5).
"""

from __future__ import annotations

import subprocess
import tempfile
import time
from pathlib import Path

from benchmarks.common import write_result

N_CLIPS = 12


def _sources(root: Path) -> list[Path]:
    """Realistic small inputs: 320x240, 24 fps, 2 s pans over different photos."""
    import numpy as np

    from v2l.data.content.photos import PHOTOS, load_photo
    from v2l.video.io import write_video

    out = []
    for n in sorted(PHOTOS)[:N_CLIPS]:
        big = load_photo(n, 416)
        clip = np.stack([big[48:288, 2 * i : 2 * i + 320] for i in range(48)])  # 240x320, 2 px/frame pan
        out.append(write_video(root / f"{n}.mp4", clip, fps=24))
    return out


def _bare(sources: list[Path], out: Path, rules) -> None:
    from v2l.data.curation.ffmpeg_exe import ffmpeg_exe

    for i, src in enumerate(sources):
        vf = (
            f"fps={rules.fps},scale={rules.width}:{rules.height}:force_original_aspect_ratio=increase:flags=bicubic,"
            f"crop={rules.width}:{rules.height},setsar=1"
        )
        subprocess.run(
            [
                ffmpeg_exe(),
                "-nostdin",
                "-loglevel",
                "error",
                "-y",
                "-i",
                str(src),
                "-vf",
                vf,
                "-frames:v",
                str(rules.frames),
                "-c:v",
                "libx264",
                "-pix_fmt",
                "yuv420p",
                "-crf",
                "12",
                "-preset",
                "medium",
                "-an",
                "-threads",
                "1",
                "-x264-params",
                "threads=1",
                str(out / f"{i}.mp4"),
            ],
            check=True,
        )


def run() -> dict:
    from v2l.data.content.user_folder import folder_inputs
    from v2l.data.curation.curate import curate
    from v2l.data.curation.rules import CurationRules

    rules = CurationRules()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "src").mkdir()
        sources = _sources(tmp / "src")
        rounds = 3
        t_cur, t_bare = [], []
        for r in range(rounds):  # interleaved so machine load drift hits both
            t0 = time.perf_counter()
            result = curate(folder_inputs(tmp / "src")[0], rules, tmp / f"corpus{r}")
            t1 = time.perf_counter()
            (tmp / f"bare{r}").mkdir()
            _bare(sources, tmp / f"bare{r}", rules)
            t2 = time.perf_counter()
            assert len(result.items) == len(sources), result.counts()
            t_cur.append(t1 - t0)
            t_bare.append(t2 - t1)
    cur, bare = sorted(t_cur)[rounds // 2], sorted(t_bare)[rounds // 2]
    data = {
        "clips": len(sources),
        "source": "320x240 24 fps 2 s H.264",
        "target": f"{rules.frames} frames {rules.height}x{rules.width} at {rules.fps} fps",
        "curation_clips_per_s": len(sources) / cur,
        "bare_ffmpeg_clips_per_s": len(sources) / bare,
        "ratio": bare / cur,
        "target_ratio": 0.5,
        "rounds": rounds,
        "curation_seconds": t_cur,
        "bare_seconds": t_bare,
    }
    write_result("data_curation", data)
    return data


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
