"""Content partitions and the pair plan: which target and reference content each sample uses.

Splits: `train` (training semantics, training content), `val` (training semantics, held-out content),
`heldout` (held-out semantics, held-out content), and `real` (a labelled real clip as the reference,
held-out content as the target). Content is partitioned first, so no content item appears in both train
and val/heldout. The plan holds only ids and seeds; rendering happens when shards are written.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import asdict, dataclass

import numpy as np

from v2l.data.config import CorpusConfig
from v2l.data.content.item import ContentItem
from v2l.data.semantics import all_semantics, semantic_split
from v2l.errors import V2LError

SPLITS = ("train", "val", "heldout", "real")


def derive_seed(*parts) -> int:
    """A stable 63-bit seed from any parts (same on every machine and Python run)."""
    return int.from_bytes(hashlib.sha256("|".join(map(str, parts)).encode()).digest()[:8], "big") >> 1


@dataclass(frozen=True)
class PairSpec:
    key: str
    split: str
    semantic: str
    family: str
    target: str  # content id
    reference: str  # content id
    target_seed: int
    reference_seed: int
    reference_kind: str = "rendered"  # or "real": the reference is the labelled clip itself

    def to_dict(self) -> dict:
        return asdict(self)


def partition_content(items: list[ContentItem], cfg: CorpusConfig) -> dict[str, str]:
    """content id -> "train" or "eval"; per source, a seeded hash order decides, about val_fraction to eval.

    Labelled real clips are neither: they only serve as references in the `real` split.
    """
    by_source: dict[str, list[ContentItem]] = defaultdict(list)
    for it in items:
        if not (it.kind == "video" and it.semantic):
            by_source[it.source].append(it)
    part: dict[str, str] = {}
    for source in sorted(by_source):
        group = sorted(by_source[source], key=lambda it: derive_seed(cfg.seed, "partition", it.content_hash))
        n_eval = int(round(len(group) * cfg.val_fraction)) if len(group) >= 2 else 0
        if len(group) >= 2:
            n_eval = min(max(n_eval, 1), len(group) - 1)
        for i, it in enumerate(group):
            part[it.id] = "eval" if i < n_eval else "train"
    n_train = sum(v == "train" for v in part.values())
    n_eval = len(part) - n_train
    if n_train < 2 or n_eval < 2:
        raise V2LError(
            f"too little content to split: {n_train} training and {n_eval} held-out items, need at least "
            f"2 of each (accepted {len(items)}); add content with --content DIR or keep the built-in "
            f"photos and procedural scenes"
        )
    return part


def plan_pairs(items: list[ContentItem], cfg: CorpusConfig) -> tuple[list[PairSpec], dict[str, str]]:
    """All samples of the corpus in a fixed order, and the content partition they were drawn from."""
    part = partition_content(items, cfg)
    split_of = semantic_split(cfg.heldout)
    pools = {p: sorted(i for i, v in part.items() if v == p) for p in ("train", "eval")}
    specs: list[PairSpec] = []
    # One target cycle per split, running across semantics, so every item is a target about equally often.
    cycles = {
        split: _Cycle(pools["train" if split == "train" else "eval"], derive_seed(cfg.seed, "cycle", split))
        for split in ("train", "val", "heldout")
    }
    for sem in all_semantics():
        if split_of[sem.name] == "train":
            specs += _pairs_for(sem.name, sem.family, "train", cycles["train"], cfg.pairs_per_semantic, cfg)
            specs += _pairs_for(sem.name, sem.family, "val", cycles["val"], cfg.eval_pairs, cfg)
        else:
            specs += _pairs_for(sem.name, sem.family, "heldout", cycles["heldout"], cfg.eval_pairs, cfg)
    family = {s.name: s.family for s in all_semantics()}
    real = sorted((it for it in items if it.kind == "video" and it.semantic), key=lambda it: it.id)
    for j, clip in enumerate(real):
        rng = np.random.default_rng(derive_seed(cfg.seed, "real", clip.id))
        target = pools["eval"][int(rng.integers(len(pools["eval"])))]
        specs.append(
            PairSpec(
                f"real-{clip.semantic}-{j:05d}",
                "real",
                clip.semantic,
                family[clip.semantic],
                target,
                clip.id,
                derive_seed(cfg.seed, "real", clip.id, "target"),
                0,
                "real",
            )
        )
    return specs, part


class _Cycle:
    """Targets from successive seeded shuffles of a pool."""

    def __init__(self, pool: list[str], seed: int):
        self.pool, self.rng, self.queue = pool, np.random.default_rng(seed), []

    def next(self) -> str:
        if not self.queue:
            self.queue = [self.pool[i] for i in self.rng.permutation(len(self.pool))]
        return self.queue.pop()


def _pairs_for(name: str, family: str, split: str, cycle: _Cycle, n: int, cfg: CorpusConfig) -> list[PairSpec]:
    rng = np.random.default_rng(derive_seed(cfg.seed, split, name))
    pool = cycle.pool
    out = []
    for i in range(n):
        target = cycle.next()
        t_seed = derive_seed(cfg.seed, split, name, i, "target")
        for k in range(cfg.refs_per_target):
            ref = target
            while ref == target:
                ref = pool[int(rng.integers(len(pool)))]
            key = f"{split}-{name}-{i:05d}" + (f"-r{k}" if cfg.refs_per_target > 1 else "")
            out.append(
                PairSpec(
                    key, split, name, family, target, ref, t_seed, derive_seed(cfg.seed, split, name, i, "reference", k)
                )
            )
    return out
