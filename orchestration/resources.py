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


# --- The platform's resources: each names a shipped pydantic config (or the store it needs) and hands back the
# --- library's own config object, with only the paths of this run filled in; no config field is re-declared.


class PlatformPaths(dg.ConfigurableResource):
    """Where every asset writes (on a cluster: storage every node sees)."""

    root: str = "runs/platform"

    def of(self, *parts: str) -> str:
        from pathlib import Path

        return str(Path(self.root, *parts).resolve())


class RayResource(dg.ConfigurableResource):
    """Ray through `v2l.ray_cluster.connect`: the cluster at `address` (or RAY_ADDRESS), else a private local one."""

    address: Optional[str] = None
    num_cpus: Optional[int] = 4  # logical CPUs of a private local instance (ignored when joining a cluster)

    def connect(self) -> None:
        from v2l.ray_cluster import connect

        connect(self.address or None, num_cpus=self.num_cpus)

    def teardown_after_execution(self, context) -> None:
        import sys

        if "ray" in sys.modules:  # a run that used Ray leaves it (a private instance stops with it)
            from v2l.ray_cluster import shutdown

            shutdown()


class MlflowResource(dg.ConfigurableResource):
    """One MLflow store for training, evaluation and the registry: a tracking URI (sqlite file or server)."""

    tracking_uri: str = "sqlite:///runs/platform/mlflow.db"

    def uri(self) -> str:
        from v2l.mlflow_store import absolute_tracking_uri

        return absolute_tracking_uri(self.tracking_uri)

    def client(self):
        from mlflow import MlflowClient

        return MlflowClient(tracking_uri=self.uri(), registry_uri=self.uri())


class TrainSettings(dg.ConfigurableResource):
    """A training config of pipelines/configs (v2l.training.config.TrainConfig), chosen in the launchpad."""

    config: str = "tiny-smoke.yaml"
    max_steps: Optional[int] = None  # override the config's max_steps
    resume: bool = True  # a retried run continues from the partition's last checkpoint

    def train_config(self, run_dir: str, corpus: str, tracking_uri: str, ray_address: Optional[str]):
        from pathlib import Path

        from v2l.training.config import load_config

        cfg = load_config(self.config, max_steps=self.max_steps, run_dir=run_dir)
        return cfg.model_copy(update={
            "data": cfg.data.model_copy(update={"corpus": Path(corpus)}),
            "tracking": cfg.tracking.model_copy(update={"uri": tracking_uri}),
            "ray": cfg.ray.model_copy(update={"address": ray_address or cfg.ray.address})})


class EvalSettings(dg.ConfigurableResource):
    """An evaluation config (v2l.evaluation.job.EvalConfig YAML) plus the release bar its check warns below."""

    config: str = "eval_tiny.yaml"
    workers: Optional[int] = None  # override the config's Ray actors (0: in-process)

    def eval_config(self, checkpoint: str, out: str, tracking_uri: str, ray_address: Optional[str]):
        from pipelines.evaluate import load_config
        from v2l.shipped import resolve_config

        return load_config(resolve_config(self.config), checkpoint=checkpoint, out=out, tracking_uri=tracking_uri,
                           ray_address=ray_address, workers=self.workers, mlflow=True, register_model=False)


class LibrarySettings(dg.ConfigurableResource):
    """A library build config (v2l.library.config.LibraryBuildConfig YAML); references default to the corpus."""

    config: str = "library_tiny.yaml"

    def build_config(self, **overrides):
        from v2l.library.config import load_build_config
        from v2l.shipped import resolve_config

        return load_build_config(resolve_config(self.config), **overrides)
