"""The hypernetwork training job's configuration (YAML files under pipelines/configs/)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, model_validator

from v2l.config import HypernetConfig, LoRAConfig, load_config_file
from v2l.training.staged import StagedConfig
from v2l.training.step import OptimConfig


class DataConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    corpus: Path | None = None  # a `v2l data build` folder; None renders pairs from the tiny world on the fly
    split: str = "train"
    val_split: str = "val"
    redraw_reference: bool = True  # a fresh same-semantic reference each time a target is drawn (the paper's pairing)
    latent_cache: bool = False  # corpus: its cached latents (`v2l data build --latents`); world: encode clips once
    clips_per_semantic: int = 16  # without a corpus: clips rendered per semantic from the tiny world's content split


class TrackingConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    uri: str | None = None  # None: sqlite file in the run directory
    experiment: str = "v2l-hypernet"
    log_every: int = 10


class RayConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    workers: int = 1
    use_gpu: bool = False
    cpus_per_worker: int = 1
    max_failures: int = 2
    report_every: int = 25  # steps between metric reports to Ray (checkpoints are always reported)
    address: str | None = None  # None: RAY_ADDRESS if set, else a local cluster
    storage_path: str | None = None  # None: <run_dir>/ray


class TrainConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = "tiny"
    preset: str = "tiny"
    backbone_weights: Path | None = None
    recipe: Literal["paper", "staged"] = "paper"
    staged: StagedConfig = StagedConfig()  # used when recipe is "staged"; finetune = max_steps - codes - distill
    lora: LoRAConfig = LoRAConfig()
    hypernet: HypernetConfig = HypernetConfig()
    optim: OptimConfig = OptimConfig()
    data: DataConfig = DataConfig()
    tracking: TrackingConfig = TrackingConfig()
    ray: RayConfig = RayConfig()
    batch_size: int = 4  # per worker
    max_steps: int = 1000
    checkpoint_every: int = 100
    keep_last: int = 3
    val_every: int = 0  # 0: only at the end
    val_samples: int = 8
    val_steps: int = 10
    seed: int = 0
    deterministic: bool = True
    gradient_checkpointing: bool = False
    torch_threads: int = 1
    run_dir: Path | None = None  # None: runs/train/<name>

    @model_validator(mode="after")
    def _run_dir_from_name(self) -> "TrainConfig":
        if self.run_dir is None:
            self.run_dir = Path("runs/train") / self.name
        return self

    @property
    def tracking_uri(self) -> str:
        return self.tracking.uri or f"sqlite:///{(self.run_dir / 'mlflow.db').resolve()}"


def load_config(path: str | Path, **overrides) -> TrainConfig:
    return load_config_file(TrainConfig, path, "training config", "pipelines/configs/tiny.yaml", **overrides)


def flatten(d: dict, prefix: str = "") -> dict[str, str]:
    """Nested config -> {"optim.lr": "1e-05", ...} for MLflow params."""
    out = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(flatten(v, f"{key}."))
        else:
            out[key] = str(v)
    return out
