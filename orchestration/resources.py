"""The platform's settings as Dagster resources (editable in the launchpad). Each names a config file of the
library's own pydantic model and a mapping of that model's fields on top (`overrides`), and hands back
`Model.model_validate(...)` through the one loader (`v2l.config.load_config_file`): no config field or default is
declared here a second time. An override replaces its whole key (give a nested section in full); leave a key out
rather than setting it to null."""

from typing import Any, Optional

import dagster as dg

from v2l.config import read_mapping
from v2l.mlflow_store import absolute_tracking_uri
from v2l.ray_cluster import connect, shutdown


class CorpusSettings(dg.ConfigurableResource):
    """A corpus config (v2l.data.config.CorpusConfig YAML; "" = CorpusConfig's defaults) and where it is built."""

    config_file: str = ""  # e.g. data_tiny.yaml (its `out` is ignored: corpora go under out_dir)
    overrides: dict[str, Any] = {}  # CorpusConfig fields, e.g. {"pairs_per_semantic": 2}
    out_dir: str = "runs/corpus"
    latent_preset: str = ""  # "" skips the latent cache; "tiny" caches with the tiny backbone

    def config(self):
        from v2l.data.config import (
            CorpusConfig,  # lazy: pulls in torch via v2l.data.config; keeps orchestration.definitions light
        )

        data = read_mapping(self.config_file, "corpus config") if self.config_file else {}
        data.pop("out", None)
        return CorpusConfig.model_validate({**data, **self.overrides})


class PretrainSettings(dg.ConfigurableResource):
    """The tiny world's pretraining runs (`v2l pretrain ...`); each model resumes from out_root/<model>. Budgets,
    pools and rates are the jobs' config models' (v2l.pretrain.*PretrainConfig) unless a job's mapping names them."""

    out_root: str = "runs/pretrain"
    install: bool = False  # copy each result into the committed weights (v2l/assets/tiny)
    seed: Optional[int] = None  # None: the config models' seed
    threads: Optional[int] = None  # None: the config models' threads
    # Keyword arguments of v2l.pretrain.jobs.train_<model> (minutes, max_steps, pool_clips, cache_clips, ...).
    vae: dict[str, Any] = {}
    judge: dict[str, Any] = {}
    clip: dict[str, Any] = {}
    backbone: dict[str, Any] = {}
    world_per_semantic: int = 4  # held-out first frames per training semantic for the base-world bars
    world_steps: int = 25
    smoke: bool = False  # 2 steps on tiny pools: checks the wiring, trains nothing useful

    def job_args(self, model: str) -> dict:
        return {
            "seed": self.seed,
            "threads": self.threads,
            **getattr(self, model),
            "install": self.install,
            "smoke": self.smoke,
        }


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
        connect(self.address or None, num_cpus=self.num_cpus)

    def teardown_after_execution(self, context) -> None:
        import sys

        if "ray" in sys.modules:  # a run that used Ray leaves it (a private instance stops with it)
            shutdown()


class MlflowResource(dg.ConfigurableResource):
    """One MLflow store for training, evaluation and the registry: a tracking URI (sqlite file or server)."""

    tracking_uri: str = "sqlite:///runs/platform/mlflow.db"

    def uri(self) -> str:
        return absolute_tracking_uri(self.tracking_uri)

    def client(self):
        from mlflow import MlflowClient

        return MlflowClient(tracking_uri=self.uri(), registry_uri=self.uri())


# A few cheap steps of a shipped config (checkpoints every 2 steps, no validation samples): what the demo and the
# Dagster environments train with, so they check the wiring from a checkout or a wheel alike.
QUICK_RUN = {
    "batch_size": 2,
    "checkpoint_every": 2,
    "keep_last": 2,
    "val_every": 0,
    "val_samples": 0,
    "tracking": {"log_every": 1},
}


class TrainSettings(dg.ConfigurableResource):
    """A training config of pipelines/configs (v2l.training.config.TrainConfig), chosen in the launchpad."""

    config: str = "tiny.yaml"
    overrides: dict[str, Any] = {}  # TrainConfig fields, e.g. {"max_steps": 30}
    resume: bool = True  # a retried run continues from the partition's last checkpoint

    def train_config(self, run_dir: str, corpus: str, tracking_uri: str, ray_address: Optional[str]):
        from pathlib import Path

        from v2l.training.config import (
            load_config,  # lazy: pulls in torch via v2l.training.config; keeps orchestration.definitions light
        )

        cfg = load_config(self.config, **{**self.overrides, "run_dir": run_dir})
        return cfg.model_copy(
            update={
                "data": cfg.data.model_copy(update={"corpus": Path(corpus)}),
                "tracking": cfg.tracking.model_copy(update={"uri": tracking_uri}),
                "ray": cfg.ray.model_copy(update={"address": ray_address or cfg.ray.address}),
            }
        )


class EvalSettings(dg.ConfigurableResource):
    """An evaluation config (v2l.evaluation.job.EvalConfig YAML) plus the release bar its check warns below."""

    config: str = "eval_tiny.yaml"
    overrides: dict[str, Any] = {}  # EvalConfig fields, e.g. {"workers": 0} (in-process)

    def eval_config(self, checkpoint: str, out: str, tracking_uri: str, ray_address: Optional[str]):
        from v2l.evaluation.job import (
            load_eval_config as load_config,  # lazy: pulls in torch via v2l.evaluation.job; keeps orchestration.definitions light
        )

        return load_config(
            self.config,
            **{
                **self.overrides,
                "checkpoint": checkpoint,
                "out": out,
                "tracking_uri": tracking_uri,
                "ray_address": ray_address,
                "mlflow": True,
                "register_model": False,
            },
        )


class LibrarySettings(dg.ConfigurableResource):
    """A library build config (v2l.library.config.LibraryBuildConfig YAML); references default to the corpus."""

    config: str = "library_tiny.yaml"
    overrides: dict[str, Any] = {}  # LibraryBuildConfig fields, e.g. {"workers": 2}

    def build_config(self, **overrides):
        from v2l.library.config import (
            load_build_config,  # lazy: pulls in torch via v2l.library.config; keeps orchestration.definitions light
        )

        return load_build_config(self.config, **{**self.overrides, **overrides})
