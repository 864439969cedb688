"""A library build's configuration (`pipelines/configs/library_tiny.yaml`; `v2l library build` fills the same)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, field_validator

from v2l.config import load_config_file
from v2l.errors import V2LError
from v2l.library.build import parse_formats
from v2l.registry import checkpoint_for
from v2l.video.reference_sampling import ReferenceSampling


class LibraryBuildConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    references: Path  # a folder of videos, a list file (one path per line) or a corpus manifest.json
    out: Path  # the library folder (on a cluster: a path every node sees)
    formats: list[str] = ["compact"]  # any of compact, diffusers, kohya
    labels: Path | None = None  # CSV `path,semantic` (paths relative to it); a folder's own labels.csv otherwise
    checkpoint: Path | None = None  # None: the committed tiny hypernetwork
    model: str | None = None  # or a registered one: models:/v2l-hypernet@champion, models:/v2l-hypernet/3
    preset: str = "tiny"
    backbone_weights: Path | None = None
    workers: int = 1  # actors, each holding the model once
    batch: int = 4  # references per actor call
    cpus_per_worker: float = 1.0
    torch_threads: int = 1  # per actor
    address: str | None = None  # None: RAY_ADDRESS if set, else a private local cluster
    reference: ReferenceSampling = ReferenceSampling()  # how each reference is sampled in time (start, fps, window)

    @field_validator("workers", "batch", "torch_threads")
    @classmethod
    def _positive(cls, v: int) -> int:
        if v < 1:
            raise ValueError("must be at least 1")
        return v

    @field_validator("formats", mode="before")
    @classmethod
    def _formats(cls, v):
        try:
            return parse_formats(v)
        except V2LError as exc:
            raise ValueError(str(exc)) from None

    def resolved(self) -> "LibraryBuildConfig":
        """This config with `model` (a registry spec) resolved to its local checkpoint folder, which the driver and
        every actor load (`v2l.registry.checkpoint_for`: at most one of checkpoint and model)."""
        if self.model is None:
            return self

        return self.model_copy(update={"checkpoint": checkpoint_for(self.checkpoint, self.model), "model": None})


def load_build_config(path: str | Path, **overrides) -> LibraryBuildConfig:
    return load_config_file(
        LibraryBuildConfig, path, "library config", "pipelines/configs/library_tiny.yaml", **overrides
    )
