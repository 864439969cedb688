"""Fixtures for the data tests: real mp4s (PyAV / ffmpeg), real images, and a corpus of bad inputs."""

from __future__ import annotations

import json
import os
import shutil
import sys
from fractions import Fraction
from pathlib import Path

# `orchestration/` and `pipelines/` are top-level packages next to `v2l/`: importable from the repo root even
# when the editable install predates them.
REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import numpy as np
import pytest

from v2l.video.io import write_png, write_video
from v2l.video.sample import pan_clip


def clip(name: str = "astronaut", frames: int = 16, size: int = 48, step: int = 2) -> np.ndarray:
    return pan_clip(name, frames, size, step)


def write_clip(path: Path, name: str = "astronaut", frames: int = 16, fps: int = 8, size: int = 48) -> Path:
    return write_video(path, clip(name, frames, size), fps=fps)


def write_faststart(path: Path, src: Path) -> Path:
    """Remux with the index (moov) first, so a truncated copy still opens and decodes partially."""
    import av

    with av.open(str(src)) as inp, av.open(str(path), "w", format="mp4", options={"movflags": "+faststart"}) as out:
        s_in = inp.streams.video[0]
        s_out = out.add_stream_from_template(s_in)
        for pkt in inp.demux(s_in):
            if pkt.dts is None:
                continue
            pkt.stream = s_out
            out.mux(pkt)
    return path


def write_audio_only(path: Path, fmt: str = "mp4", seconds: float = 1.0) -> Path:
    import av

    rate = 16000
    with av.open(str(path), "w", format=fmt) as c:
        s = c.add_stream("aac", rate=rate)
        s.layout = "mono"
        t = np.arange(int(rate * seconds)) / rate
        samples = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
        for i in range(0, len(samples), 1024):
            chunk = samples[i : i + 1024][None]
            frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="mono")
            frame.sample_rate = rate
            frame.pts = i
            frame.time_base = Fraction(1, rate)
            for pkt in s.encode(frame):
                c.mux(pkt)
        for pkt in s.encode():
            c.mux(pkt)
    return path


def write_raw_video(path: Path, frames: np.ndarray, fps: int = 8) -> Path:
    """Like write_video but any fps (even absurd ones)."""
    import av

    with av.open(str(path), "w", format="mp4") as c:
        s = c.add_stream("libx264", rate=fps)
        s.width, s.height, s.pix_fmt = frames.shape[2], frames.shape[1], "yuv420p"
        for f in frames:
            for pkt in s.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(f), format="rgb24")):
                c.mux(pkt)
        for pkt in s.encode():
            c.mux(pkt)
    return path


def make_good_folder(root: Path) -> dict[str, str]:
    """Three real clips and two photos, with a labels file; returns file -> caption."""
    root.mkdir(parents=True, exist_ok=True)
    write_clip(root / "astronaut_pan.mp4", "astronaut")
    write_clip(root / "clips" / "coffee_pan.mp4", "coffee", frames=20, fps=10)
    write_clip(root / "clips" / "cat.mov", "chelsea", frames=24, fps=12)
    from v2l.data.content.photos import load_photo

    write_png(root / "rocket.png", load_photo("rocket", 80))
    from PIL import Image

    Image.fromarray(load_photo("horse", 64)).save(root / "horse.jpg", quality=92)
    captions = {
        "astronaut_pan.mp4": "a woman astronaut",
        "clips/coffee_pan.mp4": "a cup of coffee",
        "clips/cat.mov": "an orange cat",
        "rocket.png": "a rocket under a blue sky",
        "horse.jpg": "a black horse",
    }
    lines = [
        json.dumps({"path": k, "caption": v, **({"semantic": "pan_right"} if k.endswith((".mp4", ".mov")) else {})})
        for k, v in captions.items()
    ]
    (root / "labels.jsonl").write_text("\n".join(lines) + "\n")
    return captions


@pytest.fixture()
def good_folder(tmp_path) -> Path:
    make_good_folder(tmp_path / "good")
    return tmp_path / "good"


def make_bad_folder(root: Path, outside: Path) -> tuple[dict[str, str], dict[int, str]]:
    """At least 50 bad files plus 3 good ones, and a labels.csv with bad rows.

    Returns (relative file path -> expected quarantine reason, or "accept") and
    (labels line number -> expected reason, or "accept").
    """
    from PIL import Image

    from v2l.data.content.photos import load_photo

    root.mkdir(parents=True)
    outside.mkdir(parents=True, exist_ok=True)
    exp: dict[str, str] = {}
    good = write_clip(root / "good.mp4", "astronaut")
    write_clip(root / "good2.mp4", "coffee")
    write_png(root / "good.png", load_photo("chelsea", 64))
    exp.update({"good.mp4": "accept", "good2.mp4": "accept", "good.png": "accept"})
    # zero bytes
    for n in ("empty.mp4", "empty.png", "empty.jpg", "empty.mov", "empty.webm"):
        (root / n).write_bytes(b"")
        exp[n] = "empty_file"
    # truncated: without an index (moov at the end) the file cannot be opened at all
    data = good.read_bytes()
    for frac in (0.1, 0.3, 0.5, 0.9):
        n = f"trunc_{int(frac * 100)}.mp4"
        (root / n).write_bytes(data[: int(len(data) * frac)])
        exp[n] = "unreadable"
    # truncated with the index first: it opens, then runs out of frames
    fast = write_faststart(outside / "fast.mp4", write_clip(outside / "long.mp4", "coffee", frames=40))
    fdata = fast.read_bytes()
    for frac in (0.4, 0.6):
        n = f"trunc_fast_{int(frac * 100)}.mp4"
        (root / n).write_bytes(fdata[: int(len(fdata) * frac)])
        exp[n] = "truncated"
    # wrong extension
    write_png(root / "png_as.mp4", load_photo("gravel", 48))
    write_png(root / "png2_as.mov", load_photo("coffee", 48))
    shutil.copy(write_clip(outside / "w1.mp4", "rocket"), root / "mp4_as.png")
    shutil.copy(write_clip(outside / "w2.mp4", "horse"), root / "mp4_as.jpg")
    shutil.copy(write_clip(outside / "w3.mp4", "coins"), root / "mp4_as.webp")
    exp.update({k: "wrong_extension" for k in ("png_as.mp4", "png2_as.mov", "mp4_as.png", "mp4_as.jpg", "mp4_as.webp")})
    # not media at all
    for n, body in (
        ("notes.txt", b"hello"),
        ("data.csv", b"a,b\n1,2\n"),
        ("meta.json", b"{}"),
        ("README", b"readme"),
        ("script.py", b"print(1)"),
        (".DS_Store", b"\0\0\0\1Bud1"),
    ):
        (root / n).write_bytes(body)
        exp[n] = "unsupported_type"
    # garbage with media extensions
    rng = np.random.default_rng(0)
    for n in ("garbage.mp4", "garbage2.mkv", "garbage3.avi", "garbage.png", "garbage.jpg"):
        (root / n).write_bytes(rng.integers(0, 256, 4096, dtype=np.uint8).tobytes())
        exp[n] = "unreadable"
    broken = bytearray((root / "good.png").read_bytes())
    broken[200:260] = b"\0" * 60
    (root / "damaged.png").write_bytes(bytes(broken))
    exp["damaged.png"] = "unreadable"
    # audio only
    write_audio_only(root / "audio.mp4")
    write_audio_only(root / "audio2.mov", fmt="mov")
    write_audio_only(root / "audio3.mkv", fmt="matroska")
    exp.update({"audio.mp4": "no_video_stream", "audio2.mov": "no_video_stream", "audio3.mkv": "no_video_stream"})
    # too few frames
    write_clip(root / "one_frame.mp4", "coffee", frames=1)
    write_clip(root / "one_frame_b.mp4", "rocket", frames=1)
    write_clip(root / "three_frames.mp4", "horse", frames=3)
    write_clip(root / "eight_frames_fast.mp4", "coins", frames=8, fps=30)
    exp.update(
        {k: "too_short" for k in ("one_frame.mp4", "one_frame_b.mp4", "three_frames.mp4", "eight_frames_fast.mp4")}
    )
    # absurd dimensions
    Image.new("RGB", (5000, 1), (200, 10, 10)).save(root / "line.png")
    Image.new("RGB", (2, 3000), (10, 200, 10)).save(root / "column.png")
    write_png(root / "tiny.png", load_photo("coffee", 8))
    write_png(root / "strip.png", np.tile(load_photo("coffee", 64), (1, 10, 1)))
    write_raw_video(root / "wide.mp4", np.tile(clip("coffee", 12, 16), (1, 1, 12, 1)))
    write_raw_video(root / "small.mp4", clip("coffee", 12, 8))
    exp.update(
        {k: "bad_resolution" for k in ("line.png", "column.png", "tiny.png", "strip.png", "wide.mp4", "small.mp4")}
    )
    write_raw_video(root / "fast.mp4", clip("coffee", 12, 32), fps=1000)
    exp["fast.mp4"] = "bad_fps"
    # blank
    write_raw_video(root / "black.mp4", np.zeros((12, 32, 32, 3), np.uint8))
    Image.new("RGB", (64, 64), (255, 255, 255)).save(root / "white.png")
    Image.new("RGB", (64, 64), (128, 128, 128)).save(root / "grey.jpg")
    exp.update({"black.mp4": "blank", "white.png": "blank", "grey.jpg": "blank"})
    # symlinks
    (outside / "secret.txt").write_text("secret")
    shutil.copy(good, outside / "outside.mp4")
    write_png(outside / "outside.png", load_photo("brick", 64))
    os.symlink(outside / "outside.mp4", root / "link_out.mp4")
    os.symlink(outside / "secret.txt", root / "link_secret.png")
    os.symlink(outside / "outside.png", root / "link_out.png")
    os.symlink("../../../../../../etc/hostname", root / "link_rel.jpg")
    os.symlink(outside, root / "linkdir")
    os.symlink(root / "does_not_exist.mp4", root / "dangling.mp4")
    exp.update(
        {
            "link_out.mp4": "symlink_outside",
            "link_secret.png": "symlink_outside",
            "link_out.png": "symlink_outside",
            "link_rel.jpg": "symlink_outside",
            "linkdir": "symlink_outside",
            "dangling.mp4": "unreadable",
        }
    )
    # duplicates: same bytes, then same pixels in different bytes
    (root / "zz_dups").mkdir()
    for i in range(3):
        shutil.copy(good, root / "zz_dups" / f"copy{i}.mp4")
        exp[f"zz_dups/copy{i}.mp4"] = "duplicate_file"
    shutil.copy(root / "good.png", root / "zz_dups" / "copy.png")
    exp["zz_dups/copy.png"] = "duplicate_file"
    img = Image.open(root / "good.png")
    img.save(root / "zz_dups" / "recompressed.png", compress_level=1)
    img.save(root / "zz_dups" / "recompressed.bmp")
    exp.update({"zz_dups/recompressed.png": "duplicate_content", "zz_dups/recompressed.bmp": "duplicate_content"})
    # a labels file with bad rows (line numbers count the header as line 1)
    rows = [
        b"path,caption,semantic",
        b"good.mp4,a woman astronaut,pan_left",  # 2 accept
        b"good.png,an orange cat,",  # 3 accept
        b"good2.mp4,caf\xe9 au lait in a cup,",  # 4 latin-1 byte
        b"garbage.mp4,\xff\xfe broken,",  # 5
        b"tiny.png,\xc3\x28 bad sequence,",  # 6
        b"../../etc/passwd,secrets,",  # 7
        b"/etc/passwd,secrets,",  # 8
        b"zz_dups/../../outside/secret.txt,secrets,",  # 9
        b"missing.mp4,a missing file,",  # 10
        b"sub/none.png,nothing,",  # 11
        b"white.png,a white picture,warp_drive",  # 12
        b"grey.jpg,,",  # 13 empty caption
        b"black.mp4,a black\x07 bell,",  # 14 control character
        b"line.png," + b"x" * 400 + b",",  # 15 too long
        b"good.mp4,again,",  # 16 duplicate row
        b"good2.mp4,too,many,fields,here",  # 17 malformed
    ]
    (root / "labels.csv").write_bytes(b"\n".join(rows) + b"\n")
    labels = {
        2: "accept",
        3: "accept",
        4: "label_not_utf8",
        5: "label_not_utf8",
        6: "label_not_utf8",
        7: "label_path_traversal",
        8: "label_path_traversal",
        9: "label_path_traversal",
        10: "label_unknown_path",
        11: "label_unknown_path",
        12: "label_unknown_semantic",
        13: "label_bad_caption",
        14: "label_bad_caption",
        15: "label_bad_caption",
        16: "label_duplicate",
        17: "label_malformed",
    }
    return exp, labels
