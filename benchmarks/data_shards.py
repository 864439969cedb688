"""Shard throughput: writing (render + encode + tar, and tar alone) and reading (verified raw bytes, decoded).

MB/s counts shard bytes on disk; samples/s counts reference-target pairs.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from benchmarks.common import write_result


def run(pairs_per_semantic: int = 4) -> dict:
    import webdataset as wds

    from v2l.data.build import curate_stage, gather, plan_stage, shards_stage
    from v2l.data.config import CorpusConfig
    from v2l.data.reader import Corpus

    cfg = CorpusConfig(pairs_per_semantic=pairs_per_semantic, procedural=8)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "corpus"
        quiet = lambda m: None  # noqa: E731
        c = curate_stage(gather(cfg), cfg, out, quiet)
        p = plan_stage(c, cfg)
        t0 = time.perf_counter()
        shards_stage(c, p, cfg, out, quiet)
        t_build = time.perf_counter() - t0
        corpus = Corpus(out)
        total_bytes = sum(e["bytes"] for e in corpus.manifest["shards"])
        n = sum(e["samples"] for e in corpus.manifest["shards"])
        splits = sorted({e["split"] for e in corpus.manifest["shards"]})

        # Tar writing alone: the same encoded samples through ShardWriter again.
        raw = [s for split in splits for s in corpus.raw_samples(split)]
        t0 = time.perf_counter()
        with wds.ShardWriter(
            str(Path(tmp) / "copy-%06d.tar"), maxcount=cfg.shard_samples, verbose=0, mtime=0, encoder=False
        ) as sink:
            for s in raw:
                sink.write(s)
        t_tar = time.perf_counter() - t0

        t0 = time.perf_counter()
        fresh = Corpus(out)  # verification (sha256 of every shard) is part of reading
        m = sum(1 for split in splits for _ in fresh.raw_samples(split))
        t_read_raw = time.perf_counter() - t0
        t0 = time.perf_counter()
        k = sum(1 for split in splits for _ in Corpus(out).samples(split))
        t_read_dec = time.perf_counter() - t0
        assert m == k == n
    mb = total_bytes / 1e6
    data = {
        "samples": n,
        "shard_mb": mb,
        "clip": f"{cfg.frames}x{cfg.height}x{cfg.width} H.264 4:4:4, 2 per sample",
        "write_render_encode_tar": {"seconds": t_build, "samples_per_s": n / t_build, "mb_per_s": mb / t_build},
        "write_tar_only": {"seconds": t_tar, "samples_per_s": n / t_tar, "mb_per_s": mb / t_tar},
        "read_verified_raw": {"seconds": t_read_raw, "samples_per_s": n / t_read_raw, "mb_per_s": mb / t_read_raw},
        "read_decoded_tensors": {"seconds": t_read_dec, "samples_per_s": n / t_read_dec, "mb_per_s": mb / t_read_dec},
    }
    write_result("data_shards", data)
    return data


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
