"""The corpus settings the data assets share, as a Dagster resource (editable in the launchpad)."""


from typing import Optional

import dagster as dg

from v2l.data.config import CorpusConfig


class CorpusSettings(dg.ConfigurableResource):
    out_dir: str = "runs/corpus"
    content_dirs: list[str] = []
    pairs_per_semantic: int = 8
    eval_pairs_per_semantic: Optional[int] = None
    frames: int = 9
    height: int = 48
    width: int = 48
    fps: int = 8
    seed: int = 0
    heldout: Optional[list[str]] = None
    photos: bool = True
    procedural: int = 12
    shard_samples: int = 100
    latent_preset: str = ""  # "" skips the latent cache; "tiny" caches with the tiny backbone

    def config(self) -> CorpusConfig:
        return CorpusConfig(content_dirs=tuple(self.content_dirs), pairs_per_semantic=self.pairs_per_semantic,
                            eval_pairs_per_semantic=self.eval_pairs_per_semantic, frames=self.frames,
                            height=self.height, width=self.width, fps=self.fps, seed=self.seed,
                            heldout=tuple(self.heldout) if self.heldout is not None else None, photos=self.photos,
                            procedural=self.procedural, shard_samples=self.shard_samples)
