"""The Ray Data path of the reader: rows with decoded uint8 clips, after the same sha256 verification."""

from __future__ import annotations

import json
import os

import pytest

pytestmark = pytest.mark.integration


def test_ray_dataset_yields_decoded_samples(tmp_path):
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    pytest.importorskip("ray")
    from v2l import ray_cluster
    from v2l.data.build import build_corpus
    from v2l.data.reader import Corpus, CorruptShardError
    from v2l.data.semantics import DEFAULT_HELDOUT

    build_corpus(tmp_path / "c", photos=False, procedural=8, pairs_per_semantic=1, eval_pairs_per_semantic=1)
    corpus = Corpus(tmp_path / "c")
    expected = [s["__key__"] for s in corpus.raw_samples("heldout")]
    ray_cluster.connect(num_cpus=1)
    try:
        rows = corpus.ray_dataset("heldout").take_all()
    finally:
        ray_cluster.shutdown()
    assert sorted(r["key"] for r in rows) == sorted(expected) and len(rows) == len(DEFAULT_HELDOUT)
    for r in rows:
        assert r["ref"].shape == r["tgt"].shape == (9, 48, 48, 3) and str(r["ref"].dtype) == "uint8"
        assert json.loads(r["meta"])["split"] == "heldout"
    shard = tmp_path / "c" / corpus.manifest["shards"][-1]["file"]
    data = bytearray(shard.read_bytes())
    data[100] ^= 1
    shard.write_bytes(bytes(data))
    with pytest.raises(CorruptShardError):
        Corpus(tmp_path / "c").ray_dataset("heldout")  # verified before Ray sees a byte
