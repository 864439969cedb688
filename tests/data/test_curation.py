"""Curation on real files: >= 50 bad inputs are quarantined with the right reason, good ones are normalised."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import make_bad_folder, write_clip

from v2l.data.content.user_folder import folder_inputs
from v2l.data.curation.curate import curate
from v2l.data.curation.normalise import normalise_video
from v2l.data.curation.probe import probe
from v2l.data.curation.quarantine import REASONS, read_quarantine, write_quarantine
from v2l.data.curation.rules import CurationRules, parse_size
from v2l.errors import V2LError
from v2l.video.io import decode_frames


def _rel(name: str, root: Path) -> str:
    return Path(name).relative_to(root).as_posix()


def test_bad_inputs_are_quarantined_with_one_reason_each(tmp_path):
    root = tmp_path / "in"
    expected, expected_labels = make_bad_folder(root, tmp_path / "outside")
    assert sum(v != "accept" for v in expected.values()) >= 50
    inputs, label_rejections, n_rows = folder_inputs(root)
    result = curate(inputs, CurationRules(), tmp_path / "corpus")

    got = {_rel(r.input, root): r.reason for r in result.rejections}
    got.update({_rel(i.input, root): "accept" for i in result.items})
    assert got == expected
    # One reason per input, and the counts add up.
    assert len(got) == len(inputs) == result.inputs
    counts = result.counts()
    assert counts["inputs"] == counts["accepted"] + counts["quarantined"] == len(expected)
    assert sum(counts["quarantined_by_reason"].values()) == counts["quarantined"]
    # Labels rows: each refused row has its reason; accepted rows reached their files.
    got_rows = {int(r.input.rsplit(":", 1)[1]): r.reason for r in label_rejections}
    assert got_rows == {k: v for k, v in expected_labels.items() if v != "accept"}
    assert n_rows == len(expected_labels) == len(label_rejections) + 2
    captions = {_rel(i.input, root): (i.caption, i.semantic) for i in result.items}
    assert captions["good.mp4"] == ("a woman astronaut", "pan_left")
    assert captions["good.png"] == ("an orange cat", None)
    assert captions["good2.mp4"] == ("a video", None)  # its row was not UTF-8: default caption
    # Every detail names the input and a fix, and the log round-trips.
    for r in result.rejections + label_rejections:
        assert r.reason in REASONS and str(root) in r.input and r.detail.startswith(r.input.split(":")[0])
    log = write_quarantine(tmp_path / "quarantine.jsonl", result.rejections + label_rejections)
    assert read_quarantine(log) == result.rejections + label_rejections
    assert all(json.loads(line)["reason"] for line in log.read_text().splitlines())
    # Rejected bytes are identified by hash, except files that were never read (links out of the folder).
    assert all(r.sha256 for r in result.rejections if r.reason in ("truncated", "blank", "duplicate_file"))
    assert not any(r.sha256 for r in result.rejections if r.reason in ("symlink_outside", "empty_file"))
    # Nothing escaped the folder: no accepted item comes from outside it.
    assert all(Path(i.input).is_relative_to(root) and not Path(i.input).is_symlink() for i in result.items)


def test_good_videos_are_normalised_to_the_corpus_format(tmp_path, good_folder):
    rules = CurationRules(frames=9, height=32, width=48, fps=8, content_size=64)
    inputs, label_rejections, n_rows = folder_inputs(good_folder)
    assert label_rejections == [] and n_rows == 5
    result = curate(inputs, rules, tmp_path / "corpus")
    assert result.counts() == {"inputs": 5, "accepted": 5, "quarantined": 0, "quarantined_by_reason": {}}
    videos = [i for i in result.items if i.kind == "video"]
    assert len(videos) == 3 and {i.caption for i in videos} == {"a woman astronaut", "a cup of coffee", "an orange cat"}
    for item in videos:
        clip = tmp_path / "corpus" / item.clip
        info = probe(clip)
        frames, fps = decode_frames(clip)
        assert info.codec == "h264" and (info.width, info.height) == (48, 32) and fps == 8
        assert frames.shape == (9, 32, 48, 3)
        assert item.semantic == "pan_right" and item.id.startswith("vid-") and "." not in item.id
    for item in result.items:
        from PIL import Image

        assert Image.open(tmp_path / "corpus" / item.image).size == (64, 64)
    # Same inputs, same outputs: ids, hashes and bytes of the normalised clips.
    again = curate(folder_inputs(good_folder)[0], rules, tmp_path / "corpus2")
    assert [i.to_dict() for i in again.items] == [i.to_dict() for i in result.items]
    for item in videos:
        assert (tmp_path / "corpus" / item.clip).read_bytes() == (tmp_path / "corpus2" / item.clip).read_bytes()


@pytest.mark.parametrize("which", ["bundled", "system"])
def test_normalise_works_with_either_ffmpeg_and_takes_the_reference_window(tmp_path, which):
    import shutil

    import imageio_ffmpeg

    exe = imageio_ffmpeg.get_ffmpeg_exe() if which == "bundled" else shutil.which("ffmpeg")
    if exe is None:
        pytest.skip("no system ffmpeg on this machine")
    src = write_clip(tmp_path / "src.mp4", "coffee", frames=16, fps=8, size=64)
    rules = CurationRules(frames=9, height=48, width=48, fps=8)
    out = normalise_video(src, tmp_path / "out.mp4", rules, exe=exe)
    frames, fps = decode_frames(out)
    original, _ = decode_frames(src)
    assert frames.shape == (9, 48, 48, 3) and fps == 8
    # Same fps, so the clip holds consecutive source frames from the window predict would take (the default
    # window of the 2 s clip), scaled 64 -> 48: close in colour.
    from v2l.data.content.photos import square_resize
    from v2l.video.timing import sample_clip

    first = int(round(sample_clip(src, 9, 8, warn=False).times[0] * 8))
    assert 0 <= first <= 16 - 9
    assert np.abs(frames[0].astype(float) - square_resize(original[first], 48)).mean() < 6
    assert not list(tmp_path.glob(".tmp-*"))  # the atomic write left nothing behind


def test_fps_is_resampled(tmp_path):
    src = write_clip(tmp_path / "fast.mp4", "coffee", frames=48, fps=24)
    out = normalise_video(src, tmp_path / "out.mp4", CurationRules(frames=9, fps=8))
    frames, fps = decode_frames(out)
    assert frames.shape[0] == 9 and fps == 8
    # 24 -> 8 fps keeps every third frame: the pan (2 px per source frame) moves ~6 px per output frame.
    from data_measures import phase_shift

    dx, _ = phase_shift(frames[0].astype(float), frames[1].astype(float))
    assert 4.5 < abs(dx) < 7.5, dx


def test_rules_reject_bad_settings_with_a_fix():
    with pytest.raises(V2LError, match="frame count"):
        CurationRules(frames=10)
    with pytest.raises(V2LError, match="even"):
        CurationRules(height=47)
    with pytest.raises(V2LError, match="HxW"):
        parse_size("48by48")
    assert parse_size("32x64") == (32, 64)
    with pytest.raises(V2LError, match="does not exist"):
        folder_inputs("/nonexistent/folder")
