"""Reference-target pairs for training, drawn by step so that a resumed run sees exactly the same batches.

Every random choice of step s on rank r comes from a generator seeded by (seed, s, r): the data position
is the step itself, and nothing else has to be checkpointed to resume exactly.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from v2l.data.latent_cache import read_latents
from v2l.data.reader import Corpus, decode_sample, iter_tar
from v2l.training.config import TrainConfig
from v2l.training.step import Batch
from v2l.video.pixels import to_float, to_uint8
from v2l.world.sampler import ClipSampler, WorldConfig, load_content, semantics_for


def step_seed(seed: int, step: int, rank: int, salt: int = 0) -> int:
    return int(np.random.SeedSequence([seed, step, rank, salt]).generate_state(1)[0])


@dataclass
class Clip:
    frames: torch.Tensor | None  # uint8 (3, F, H, W); None for latent-cache clips
    caption: str
    semantic: str
    content_id: str
    latents: torch.Tensor | None = None  # (C, T, h, w) scaled VAE latents, from the latent cache
    image: torch.Tensor | None = None  # (C, 1, h, w) the first frame encoded alone
    text: torch.Tensor | None = None  # (L, D) caption embedding
    pixel_size: tuple[int, int] | None = None


class PairSource:
    """Targets, each with its semantic; a reference is another clip of the same semantic, other content."""

    def __init__(self, targets: list[Clip], references: list[Clip], redraw: bool = True):
        if not targets:
            raise ValueError("no training targets: the corpus split is empty")
        self.targets, self.references, self.redraw = targets, references, redraw
        self.by_semantic: dict[str, list[int]] = {}
        for i, c in enumerate(references):
            self.by_semantic.setdefault(c.semantic, []).append(i)

    def reference_for(self, target: Clip, fixed: Clip | None, rng: random.Random) -> Clip:
        if fixed is not None and not self.redraw:
            return fixed
        pool = [
            i for i in self.by_semantic.get(target.semantic, ()) if self.references[i].content_id != target.content_id
        ]
        return self.references[rng.choice(pool)] if pool else (fixed or target)

    def batch(self, step: int, rank: int, size: int, seed: int, fixed_refs: list[Clip | None] | None = None) -> Batch:
        rng = random.Random(step_seed(seed, step, rank, salt=1))
        idx = [rng.randrange(len(self.targets)) for _ in range(size)]
        tgts = [self.targets[i] for i in idx]
        refs = [self.reference_for(t, fixed_refs[i] if fixed_refs else None, rng) for t, i in zip(tgts, idx)]
        if tgts[0].latents is not None:  # latent-cache clips: no VAE or text encoder in the step
            return Batch(
                reference=None,
                target=None,
                captions=[t.caption for t in tgts],
                semantics=[t.semantic for t in tgts],
                pixel_size=tgts[0].pixel_size,
                reference_latents=torch.stack([r.latents for r in refs]),
                target_latents=torch.stack([t.latents for t in tgts]),
                image_latents=torch.stack([t.image for t in tgts]),
                text=torch.stack([t.text for t in tgts]),
            )
        return Batch(
            reference=to_float(torch.stack([r.frames for r in refs])),
            target=to_float(torch.stack([t.frames for t in tgts])),
            captions=[t.caption for t in tgts],
            semantics=[t.semantic for t in tgts],
        )


def corpus_source(
    corpus_dir: str | Path, split: str, rank: int, world: int, redraw: bool, latents: str | None = None
) -> PairSource:
    """This worker's share of a corpus split (shards rank::world), decoded into memory once.

    With `latents` (a preset name) the clips come from the corpus's latent cache instead of the videos."""

    corpus = Corpus(corpus_dir)
    paths = corpus.verify(split)
    share = paths[rank::world] or paths  # fewer shards than workers: everyone reads all
    if latents is not None:
        return _latent_source(corpus, share, split, latents, redraw)
    targets, references = [], []
    for path in share:
        for raw in iter_tar(path):
            s = decode_sample(raw)
            m = s["meta"]
            targets.append(Clip(to_uint8(s["tgt"]), m["caption"], m["semantic"], m["content_id"]))
            references.append(
                Clip(
                    to_uint8(s["ref"]), m.get("reference_caption", ""), m["semantic"], m.get("reference_content_id", "")
                )
            )
    # Targets are also references of their semantic for other targets (the paper re-draws among all clips).
    return PairSource(targets, references + targets, redraw)


def world_source(split: str, rank: int, clips_per_semantic: int = 16, seed: int = 0) -> PairSource:
    """Pairs rendered from the tiny world when no corpus is given (tests, quick runs)."""

    world = WorldConfig()
    content = load_content(world)["train" if split == "train" else "heldout"]
    names = semantics_for("train" if split in ("train", "val") else "heldout")
    sampler = ClipSampler(world, content, names, seed=seed + 1000 * rank)
    rng = np.random.default_rng(seed + rank)
    clips = []
    for si, name in enumerate(names):
        for _ in range(clips_per_semantic):
            ci = int(rng.integers(len(content)))
            clips.append(
                Clip(
                    to_uint8(sampler.clip(ci, si, int(rng.integers(2**31 - 1)))),
                    content[ci].caption,
                    name,
                    content[ci].id,
                )
            )
    return PairSource(clips, clips, redraw=True)


@torch.no_grad()
def cache_latents_in_memory(source: PairSource, backbone, batch: int = 32) -> PairSource:
    """Encode every clip of a rendered source once, as a corpus latent cache would (the VAE and the text
    encoder are frozen): steps then run without them."""
    clips = list({id(c): c for c in source.targets + source.references}.values())
    for i in range(0, len(clips), batch):
        chunk = clips[i : i + batch]
        frames = to_float(torch.stack([c.frames for c in chunk]))
        latents = backbone.encode_video(frames).float().cpu()
        images = backbone.encode_video(frames[:, :, :1]).float().cpu()
        text = backbone.encode_text([c.caption for c in chunk]).float().cpu()
        for j, c in enumerate(chunk):
            c.latents, c.image, c.text, c.pixel_size = latents[j], images[j], text[j], tuple(frames.shape[-2:])
    return source


def _latent_source(corpus, share: list[Path], split: str, preset: str, redraw: bool) -> PairSource:
    import json

    metas = {}
    for path in share:  # only the small json members are parsed; the mp4 bytes are never decoded
        for raw in iter_tar(path):
            metas[raw["__key__"]] = json.loads(raw["json"])
    size = (corpus.manifest.get("config", {}).get("height", 48), corpus.manifest.get("config", {}).get("width", 48))
    targets, references = [], []
    for s in read_latents(corpus.root, preset, split):
        meta = metas.get(s["key"])
        if meta is None:
            continue  # another worker's share
        targets.append(
            Clip(
                None,
                meta["caption"],
                meta["semantic"],
                meta["content_id"],
                latents=s["tgt"],
                image=s["img"],
                text=s["text"],
                pixel_size=size,
            )
        )
        references.append(
            Clip(
                None,
                meta.get("reference_caption", ""),
                meta["semantic"],
                meta.get("reference_content_id", ""),
                latents=s["ref"],
                pixel_size=size,
            )
        )
    return PairSource(targets, references + targets, redraw)


def pair_source(cfg: TrainConfig, split: str, rank: int, world: int, backbone=None):
    """Pairs from the corpus (its shards or latent cache) or rendered from the tiny world; rendered clips are
    encoded once up front when `data.latent_cache` is on and a backbone is given (no VAE or text encoder
    in the step)."""
    if cfg.data.corpus is not None:
        return corpus_source(
            cfg.data.corpus,
            split,
            rank,
            world,
            cfg.data.redraw_reference,
            latents=cfg.preset if cfg.data.latent_cache else None,
        )
    source = world_source(split, rank, clips_per_semantic=cfg.data.clips_per_semantic, seed=cfg.seed)
    return cache_latents_in_memory(source, backbone) if cfg.data.latent_cache and backbone is not None else source
