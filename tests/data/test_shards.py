"""A real corpus build: WebDataset shards that stock tar and webdataset open, deterministic bytes, no split
leakage, counts that add up, ground truth that re-renders, and a flipped byte caught by the sha256 check."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import make_good_folder

from v2l.data.build import build_corpus
from v2l.data.config import CorpusConfig
from v2l.data.reader import Corpus, CorruptShardError
from v2l.data.render import render_clip
from v2l.errors import V2LError

OPTS = dict(pairs_per_semantic=2, eval_pairs_per_semantic=1, procedural=6, shard_samples=20)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    base = tmp_path_factory.mktemp("corpus")
    make_good_folder(base / "good")
    result = build_corpus(base / "out", [base / "good"], seed=3, **OPTS)
    return base, result


def test_layout_counts_and_manifest(built):
    base, r = built
    m = json.loads(r.manifest.read_text())
    assert {"version", "shards", "counts", "semantics"} <= set(m)
    c = m["counts"]
    assert c["inputs"] == c["accepted"] + c["quarantined"] == 17 + 6 + 5
    assert c["label_rows"] == c["label_accepted"] + c["label_quarantined"] == 5
    assert len(r.quarantine.read_text().splitlines()) == c["quarantined"] + c["label_quarantined"]
    # 24 training semantics x 2, then x 1 for val, 10 held out (6 tier 1 + 4 tier 2) x 1, 3 labelled real clips.
    assert c["samples"] == {"train": 48, "val": 24, "heldout": 10, "real": 3}
    assert sum(e["samples"] for e in m["shards"]) == sum(c["samples"].values())
    assert [Path(e["file"]).name for e in m["shards"] if e["split"] == "train"] == [
        "shard-000000.tar",
        "shard-000001.tar",
        "shard-000002.tar",
    ]
    assert all((base / "out" / e["file"]).stat().st_size == e["bytes"] for e in m["shards"])
    assert not list((base / "out").glob(".staging-*")) and not list((base / "out").glob(".old-*"))


def test_shards_open_with_stock_tar(built, tmp_path):
    base, r = built
    m = json.loads(r.manifest.read_text())
    for e in m["shards"]:
        names = subprocess.run(
            ["tar", "tf", str(base / "out" / e["file"])], capture_output=True, text=True, check=True
        ).stdout.split()
        keys = sorted({n.split(".", 1)[0] for n in names})
        assert len(keys) == e["samples"] and all("." not in k and "/" not in k for k in keys)
        assert sorted(names) == sorted(f"{k}.{ext}" for k in keys for ext in ("json", "ref.mp4", "tgt.mp4"))
    first = base / "out" / m["shards"][0]["file"]
    subprocess.run(["tar", "xf", str(first), "-C", str(tmp_path)], check=True)
    from v2l.video.io import decode_frames

    mp4 = sorted(tmp_path.glob("*.tgt.mp4"))[0]
    frames, fps = decode_frames(mp4)
    assert frames.shape == (9, 48, 48, 3) and fps == 8


def test_webdataset_and_reader_yield_decoded_samples(built):
    import webdataset as wds

    base, r = built
    corpus = Corpus(base / "out")
    urls = [str(p) for p in corpus.verify("val")]
    raw = list(wds.WebDataset(urls, shardshuffle=False))
    assert len(raw) == 24 and {"ref.mp4", "tgt.mp4", "json"} <= set(raw[0])
    samples = list(corpus.torch_dataset("val"))
    assert [s["key"] for s in samples] == [x["__key__"] for x in raw]
    s = samples[0]
    assert s["ref"].shape == s["tgt"].shape == (3, 9, 48, 48)
    assert -1.0 <= float(s["tgt"].min()) and float(s["tgt"].max()) <= 1.0
    assert s["caption"] == s["meta"]["caption"] and s["meta"]["split"] == "val"
    import torch

    triples = corpus.torch_dataset("train").map(lambda s: (s["ref"], s["tgt"], s["caption"]))
    ref, tgt, captions = next(iter(torch.utils.data.DataLoader(triples, batch_size=4)))
    assert ref.shape == tgt.shape == (4, 3, 9, 48, 48) and len(captions) == 4


def test_no_split_leakage_and_pairs_share_the_semantic(built):
    base, r = built
    corpus = Corpus(base / "out")
    metas = {
        split: [json.loads(s["json"]) for s in corpus.raw_samples(split)]
        for split in ("train", "val", "heldout", "real")
    }
    content = {
        split: {x for m in ms for x in (m["content_id"], m["reference_content_id"])} for split, ms in metas.items()
    }
    assert not content["train"] & (content["val"] | content["heldout"] | content["real"])
    sems = {split: {m["semantic"] for m in ms} for split, ms in metas.items()}
    split_of = {s["name"]: s["split"] for s in corpus.manifest["semantics"]}
    assert all(split_of[s] == "train" for s in sems["train"] | sems["val"])
    assert sems["heldout"] and all(split_of[s] == "heldout" for s in sems["heldout"])
    assert not sems["heldout"] & sems["train"]
    for ms in metas.values():
        for m in ms:
            assert m["content_id"] != m["reference_content_id"] and m["split"] in m["key"]
    assert all(m["reference_kind"] == "real" and m["semantic"] == "pan_right" for m in metas["real"])
    # Captions describe content only: no semantic name leaks into a caption.
    names = set(split_of)
    assert not any(
        n.replace("_", " ") in m["caption"] or n in m["caption"] for ms in metas.values() for m in ms for n in names
    )


def test_target_is_ground_truth_that_re_renders(built):
    base, r = built
    corpus = Corpus(base / "out")
    cfg = CorpusConfig(**{k: v for k, v in OPTS.items()}, seed=3)
    items = {c["id"]: c for c in corpus.manifest["content"]}
    for s in list(corpus.samples("heldout"))[:3]:
        m = s["meta"]
        from PIL import Image

        picture = np.asarray(Image.open(base / "out" / "curated" / "content" / f"{m['content_id']}.png"))
        frames, params = render_clip(m["semantic"], picture, m["target_seed"], cfg)
        assert params == m["target_params"] and m["content_id"] in items
        decoded = ((s["tgt"].permute(1, 2, 3, 0) + 1) * 127.5).numpy()
        assert np.abs(decoded - frames).mean() < 3.0  # only the H.264 round trip differs


def test_same_inputs_and_seed_give_byte_identical_shards(built, tmp_path):
    base, r = built
    again = build_corpus(tmp_path / "again", [base / "good"], seed=3, **OPTS)
    m1, m2 = json.loads(r.manifest.read_text()), json.loads(again.manifest.read_text())
    assert m1["version"] == m2["version"] and m1["shards"] == m2["shards"]
    for e in m1["shards"]:
        assert (base / "out" / e["file"]).read_bytes() == (tmp_path / "again" / e["file"]).read_bytes()
    other = build_corpus(tmp_path / "other", [base / "good"], seed=4, **OPTS)
    assert json.loads(other.manifest.read_text())["version"] != m1["version"]


def test_flipped_byte_and_missing_shard_are_caught(built, tmp_path):
    base, r = built
    copy = tmp_path / "copy"
    shutil.copytree(base / "out" / "shards", copy / "shards")
    shutil.copy(r.manifest, copy / "manifest.json")
    assert len(Corpus(copy).verify()) == len(json.loads(r.manifest.read_text())["shards"])
    victim = copy / "shards" / "val" / "shard-000001.tar"
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0x01
    victim.write_bytes(bytes(data))
    with pytest.raises(CorruptShardError, match=r"shard .*val/shard-000001.tar is corrupt.*rebuild"):
        list(Corpus(copy).samples("val"))
    from v2l.data.semantics import DEFAULT_HELDOUT

    # other splits still verify and read (one eval pair per held-out semantic)
    assert len(list(Corpus(copy).samples("heldout"))) == len(DEFAULT_HELDOUT)
    out = subprocess.run(
        [sys.executable, "-m", "v2l.cli.main", "data", "verify", str(copy)], capture_output=True, text=True
    )
    assert out.returncode == 2 and "val/shard-000001.tar is corrupt" in out.stderr
    victim.unlink()
    with pytest.raises(CorruptShardError, match="missing"):
        Corpus(copy).verify("val")
    with pytest.raises(V2LError, match="does not exist"):
        Corpus(tmp_path / "nothing")


def test_cli_build_with_bad_folder(tmp_path):
    from conftest import make_bad_folder

    make_bad_folder(tmp_path / "bad", tmp_path / "outside")
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "v2l.cli.main",
            "data",
            "build",
            "--out",
            str(tmp_path / "c"),
            "--content",
            str(tmp_path / "bad"),
            "--pairs-per-semantic",
            "1",
            "--eval-pairs",
            "1",
            "--procedural",
            "4",
            "--no-photos",
            "--size",
            "32x32",
        ],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    m = json.loads((tmp_path / "c" / "manifest.json").read_text())
    c = m["counts"]
    assert c["inputs"] == c["accepted"] + c["quarantined"] and c["quarantined"] >= 50
    assert "manifest" in out.stdout and "quarantine" in out.stdout
    lines = (tmp_path / "c" / "quarantine.jsonl").read_text().splitlines()
    assert len(lines) == c["quarantined"] + c["label_quarantined"]
    s = next(Corpus(tmp_path / "c").samples("train"))
    assert s["tgt"].shape == (3, 9, 32, 32)
    bad = subprocess.run(
        [sys.executable, "-m", "v2l.cli.main", "data", "build", "--out", str(tmp_path / "d"), "--size", "47x48"],
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2 and bad.stderr.strip().startswith("error:") and "even" in bad.stderr


def test_damaged_tar_and_sample_raise_clear_errors(tmp_path):
    from v2l.data.reader import decode_sample, iter_tar

    junk = tmp_path / "junk.tar"
    junk.write_bytes(b"not a tar at all" * 100)
    with pytest.raises(CorruptShardError, match="junk.tar cannot be read as a tar"):
        list(iter_tar(junk))
    with pytest.raises(CorruptShardError, match="sample k1 .*cannot be decoded"):
        decode_sample({"__key__": "k1", "json": b"{}", "ref.mp4": b"\0" * 10, "tgt.mp4": b""})
