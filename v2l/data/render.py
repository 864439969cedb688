"""Render a planned pair: the semantic applied to target and reference content, each with its own seed."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from v2l.data.config import CorpusConfig
from v2l.data.content.item import ContentItem
from v2l.data.pairs import PairSpec
from v2l.data.semantics import get_semantic
from v2l.video.io import decode_frames


def load_picture(corpus: Path, item: ContentItem) -> np.ndarray:
    from PIL import Image

    with Image.open(corpus / item.image) as img:
        return np.asarray(img.convert("RGB"))


def render_clip(semantic: str, picture: np.ndarray, seed: int, cfg: CorpusConfig) -> tuple[np.ndarray, dict]:
    sem = get_semantic(semantic)
    rng = np.random.default_rng(seed)
    params = sem.sample_params(rng)
    return sem.render(picture, params, rng, cfg.frames, (cfg.height, cfg.width)), params


def render_pair(spec: PairSpec, items: dict[str, ContentItem], corpus: Path, cfg: CorpusConfig):
    """(reference frames, target frames, reference params or None for a real clip, target params)."""
    tgt, t_params = render_clip(spec.semantic, load_picture(corpus, items[spec.target]), spec.target_seed, cfg)
    if spec.reference_kind == "real":
        ref, _ = decode_frames(corpus / items[spec.reference].clip)
        return ref, tgt, None, t_params
    ref, r_params = render_clip(spec.semantic, load_picture(corpus, items[spec.reference]), spec.reference_seed, cfg)
    return ref, tgt, r_params, t_params
