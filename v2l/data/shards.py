"""WebDataset shards (DESIGN §5): `shards/<split>/shard-000000.tar`, members `<key>.ref.mp4`, `<key>.tgt.mp4`,
`<key>.json`. Written with webdataset's ShardWriter with a fixed mtime and in plan order, so the same
plan gives byte-identical tars.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

from v2l.data.clip_codec import encode_mp4
from v2l.data.config import CorpusConfig
from v2l.data.content.item import ContentItem
from v2l.data.pairs import SPLITS, PairSpec
from v2l.data.render import render_pair
from v2l.data.torch_threads import single_threaded_torch
from v2l.video.io import file_sha256

SHARD_PATTERN = "shard-%06d.tar"


def sample_json(spec: PairSpec, items: dict[str, ContentItem], cfg: CorpusConfig, r_params, t_params) -> dict:
    tgt, ref = items[spec.target], items[spec.reference]
    return {
        "key": spec.key,
        "semantic": spec.semantic,
        "family": spec.family,
        "split": spec.split,
        "content_id": tgt.id,
        "caption": tgt.caption,
        "reference_content_id": ref.id,
        "reference_caption": ref.caption,
        "reference_kind": spec.reference_kind,
        "source_hashes": {"target": tgt.sha256, "reference": ref.sha256},
        "target_seed": spec.target_seed,
        "reference_seed": spec.reference_seed,
        "target_params": t_params,
        "reference_params": r_params,
        "frames": cfg.frames,
        "height": cfg.height,
        "width": cfg.width,
        "fps": cfg.fps,
    }


def write_split_shards(
    specs: list[PairSpec],
    items: dict[str, ContentItem],
    corpus: Path,
    out_dir: Path,
    cfg: CorpusConfig,
    progress: Callable[[int], None] | None = None,
) -> list[dict]:
    """Render, encode and write one split's samples; returns manifest entries (file relative to out_dir.parent)."""
    import webdataset as wds

    if not specs:
        return []
    out_dir.mkdir(parents=True, exist_ok=True)
    pattern = str(out_dir / SHARD_PATTERN)
    counts: dict[str, int] = {}
    with wds.ShardWriter(pattern, maxcount=cfg.shard_samples, verbose=0, mtime=0, encoder=False) as sink:
        cache: dict[tuple, bytes] = {}
        for spec in specs:
            ref, tgt, r_params, t_params = render_pair(spec, items, corpus, cfg)
            tgt_key = (spec.target, spec.target_seed)
            if tgt_key not in cache:  # k references share one target: encode it once
                cache = {tgt_key: encode_mp4(tgt, cfg.fps)}
            meta = sample_json(spec, items, cfg, r_params, t_params)
            sink.write(
                {
                    "__key__": spec.key,
                    "ref.mp4": encode_mp4(ref, cfg.fps),
                    "tgt.mp4": cache[tgt_key],
                    "json": json.dumps(meta, sort_keys=True).encode("utf-8"),
                }
            )
            name = Path(sink.fname).name
            counts[name] = counts.get(name, 0) + 1
            if progress:
                progress(1)
    entries = []
    for name in sorted(counts):
        path = out_dir / name
        entries.append(
            {
                "file": f"{out_dir.name}/{name}",
                "split": out_dir.name,
                "samples": counts[name],
                "bytes": path.stat().st_size,
                "sha256": file_sha256(path),
            }
        )
    return entries


def write_all_shards(
    specs: list[PairSpec],
    items: dict[str, ContentItem],
    corpus: Path,
    shards_dir: Path,
    cfg: CorpusConfig,
    progress: Callable[[int], None] | None = None,
) -> list[dict]:
    entries = []
    with single_threaded_torch():
        for split in SPLITS:
            part = [s for s in specs if s.split == split]
            for e in write_split_shards(part, items, corpus, shards_dir / split, cfg, progress):
                e["file"] = f"shards/{e['file']}"
                entries.append(e)
    return entries
