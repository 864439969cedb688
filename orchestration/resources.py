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


class PretrainSettings(dg.ConfigurableResource):
    """The tiny world's pretraining runs (`v2l pretrain ...`); each model resumes from out_root/<model>."""

    out_root: str = "runs/pretrain"
    install: bool = False  # copy each result into the committed weights (v2l/assets/tiny)
    seed: int = 0
    threads: int = 2
    vae_minutes: float = 54.0
    judge_minutes: float = 12.0
    clip_minutes: float = 15.0
    backbone_minutes: float = 60.0
    world_per_semantic: int = 4  # held-out first frames per training semantic for the base-world bars
    world_steps: int = 25
    smoke: bool = False  # 2 steps on tiny pools: checks the wiring, trains nothing useful
