"""Building a corpus, stage by stage: gather -> curate -> plan pairs -> write shards (-> cache latents).

The same functions back `v2l data build`, `pipelines/build_corpus.py` and the Dagster assets. Each stage
returns a small picklable object. Output under `out/`: `manifest.json`, `quarantine.jsonl`,
`shards/<split>/shard-*.tar`, and the curated content in `curated/`. Shards are written to a hidden
staging folder and swapped in, and the manifest is written last, atomically: a killed build never
leaves a manifest that points at half-written shards.
"""

from __future__ import annotations

import json
import logging
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from v2l.atomic import swap_dir, write_text_atomic
from v2l.data.config import CorpusConfig
from v2l.data.content.item import ContentItem, RawInput
from v2l.data.content.photos import photo_inputs
from v2l.data.content.procedural import procedural_inputs
from v2l.data.content.user_folder import folder_inputs
from v2l.data.curation.curate import CurationResult, curate
from v2l.data.curation.quarantine import Rejection, reason_counts, write_quarantine
from v2l.data.manifest import FORMAT, dataset_version, write_manifest
from v2l.data.pairs import SPLITS, PairSpec, plan_pairs
from v2l.data.semantics import describe
from v2l.data.shards import write_all_shards

log = logging.getLogger(__name__)


@dataclass
class Gathered:
    inputs: list[RawInput]
    label_rejections: list[Rejection] = field(default_factory=list)
    label_rows: int = 0


@dataclass
class Curated:
    result: CurationResult
    label_rejections: list[Rejection]
    label_rows: int

    @property
    def items(self) -> list[ContentItem]:
        return self.result.items

    def counts(self) -> dict:
        c = self.result.counts()
        c.update(
            label_rows=self.label_rows,
            label_accepted=self.label_rows - len(self.label_rejections),
            label_quarantined=len(self.label_rejections),
            label_quarantined_by_reason=reason_counts(self.label_rejections),
        )
        return c


@dataclass
class Planned:
    specs: list[PairSpec]
    partition: dict[str, str]


@dataclass
class BuildResult:
    out: Path
    manifest: Path
    shards: Path
    quarantine: Path
    counts: dict


def gather(cfg: CorpusConfig) -> Gathered:
    """Stage 1 (raw_content): built-in photos and procedural scenes, then every file of every content folder."""
    g = Gathered(inputs=[])
    if cfg.photos:
        g.inputs += photo_inputs()
    g.inputs += procedural_inputs(cfg.procedural, cfg.seed)
    for d in cfg.content_dirs:
        inputs, rejections, rows = folder_inputs(d)
        g.inputs += inputs
        g.label_rejections += rejections
        g.label_rows += rows
    return g


def curate_stage(g: Gathered, cfg: CorpusConfig, out: Path) -> Curated:
    """Stage 2 (curated_clips): accept or quarantine every input; writes `curated/items.json`."""

    def progress(i, n, name):
        if i == n or i % 25 == 0:
            log.info(f"curate: {i}/{n} inputs")

    result = curate(g.inputs, cfg.curation_rules(), out, progress=progress)
    c = Curated(result, g.label_rejections, g.label_rows)
    write_text_atomic(
        out / "curated" / "items.json", json.dumps([i.to_dict() for i in c.items], indent=1, sort_keys=True) + "\n"
    )
    return c


def plan_stage(c: Curated, cfg: CorpusConfig) -> Planned:
    """Stage 3 (semantic_pairs): which content and seeds every sample uses."""
    specs, partition = plan_pairs(c.items, cfg)
    return Planned(specs, partition)


def shards_stage(c: Curated, p: Planned, cfg: CorpusConfig, out: Path) -> BuildResult:
    """Stage 4 (pair_shards): render and write the shards, then the quarantine log, then the manifest."""
    items = {i.id: i for i in c.items}
    staging = out / f".staging-{uuid.uuid4().hex[:8]}"
    done = [0]

    def progress(n):
        done[0] += n
        if done[0] % 100 == 0 or done[0] == len(p.specs):
            log.info(f"shards: {done[0]}/{len(p.specs)} samples")

    try:
        entries = write_all_shards(p.specs, items, out, staging / "shards", cfg, progress)
        swap_dir(staging / "shards", out / "shards")
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    quarantine = write_quarantine(out / "quarantine.jsonl", c.result.rejections + c.label_rejections)
    counts = c.counts()
    counts["samples"] = {s: sum(1 for x in p.specs if x.split == s) for s in SPLITS}
    counts["content"] = {k: sum(v == k for v in p.partition.values()) for k in ("train", "eval")}
    counts["real_reference_clips"] = sum(1 for i in c.items if i.kind == "video" and i.semantic)
    config = cfg.to_dict()
    manifest = {
        "format": FORMAT,
        "version": dataset_version(config, entries),
        "config": config,
        "shards": entries,
        "counts": counts,
        "semantics": [{k: d[k] for k in ("name", "family", "split", "description")} for d in describe(cfg.heldout)],
        "content": [
            {
                "id": i.id,
                "source": i.source,
                "kind": i.kind,
                "caption": i.caption,
                "partition": p.partition.get(i.id, "real_reference"),
                "sha256": i.sha256,
                "licence": i.licence,
                "origin": i.origin,
            }
            for i in c.items
        ],
        "quarantine": "quarantine.jsonl",
    }
    path = write_manifest(out, manifest)
    return BuildResult(out, path, out / "shards", quarantine, counts)


def build_corpus(
    out_dir: str | Path,
    content_dirs: tuple[str | Path, ...] | list = (),
    pairs_per_semantic: int = 8,
    size: tuple[int, int] = (48, 48),
    frames: int = 9,
    seed: int = 0,
    **options,
) -> BuildResult:
    """Build a corpus end to end. `options` are any further `CorpusConfig` fields (fps, heldout, ...)."""
    cfg = CorpusConfig(
        content_dirs=tuple(str(d) for d in content_dirs),
        pairs_per_semantic=pairs_per_semantic,
        height=size[0],
        width=size[1],
        frames=frames,
        seed=seed,
        **options,
    )
    return build_from_config(out_dir, cfg)


def build_from_config(out_dir: str | Path, cfg: CorpusConfig) -> BuildResult:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    g = gather(cfg)
    log.info(f"gather: {len(g.inputs)} inputs ({len(g.label_rejections)} labels rows refused)")
    c = curate_stage(g, cfg, out)
    counts = c.counts()
    log.info(f"curate: {counts['accepted']} accepted, {counts['quarantined']} quarantined")
    p = plan_stage(c, cfg)
    log.info(f"pairs: {len(p.specs)} samples planned")
    return shards_stage(c, p, cfg, out)
