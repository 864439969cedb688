"""The resources of each environment, chosen by V2L_ENV:

- dev (default): everything under runs/platform, a private local Ray, MLflow in runs/platform/mlflow.db; the
  schedule stopped, the sensors running (under `make ui`).
- test: everything under V2L_PLATFORM_ROOT (a test's tmp dir), the smallest configs; schedule and sensors stopped.
- cluster: RAY_ADDRESS, MLFLOW_TRACKING_URI and V2L_PLATFORM_ROOT (storage every node sees) are required;
  schedule and sensors running.

Any resource can still be changed per run in the launchpad (`resources:` in the run config)."""

from __future__ import annotations

import os
from dataclasses import dataclass

import dagster as dg

from orchestration.resources import (
    QUICK_RUN,
    CorpusSettings,
    EvalSettings,
    LibrarySettings,
    MlflowResource,
    PlatformPaths,
    PretrainSettings,
    RayResource,
    TrainSettings,
)
from v2l.errors import V2LError

ENVIRONMENTS = ("dev", "test", "cluster")


@dataclass(frozen=True)
class Environment:
    name: str
    resources: dict
    schedule_status: dg.DefaultScheduleStatus
    sensor_status: dg.DefaultSensorStatus


def _require(name: str, env: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise V2LError(f"V2L_ENV={env} needs {name} set (see README, Orchestration: scale out)")
    return value


def environment(name: str | None = None, root: str | None = None) -> Environment:
    """The resources of environment `name` (default V2L_ENV, else dev); `root` overrides V2L_PLATFORM_ROOT."""

    name = name or os.environ.get("V2L_ENV", "dev")
    if name not in ENVIRONMENTS:
        raise V2LError(f"V2L_ENV={name!r}: choose one of {', '.join(ENVIRONMENTS)}")
    if name == "cluster":
        root = str(root or _require("V2L_PLATFORM_ROOT", name))
        ray = RayResource(address=_require("RAY_ADDRESS", name), num_cpus=None)
        tracking = _require("MLFLOW_TRACKING_URI", name)
    elif name == "test":
        root = str(root or _require("V2L_PLATFORM_ROOT", name))
        ray, tracking = RayResource(address=os.environ.get("RAY_ADDRESS") or None), None
    else:
        root = str(root or os.environ.get("V2L_PLATFORM_ROOT", "runs/platform"))
        ray, tracking = (
            RayResource(address=os.environ.get("RAY_ADDRESS") or None),
            os.environ.get("MLFLOW_TRACKING_URI"),
        )
    small = name == "test"
    resources = {
        "paths": PlatformPaths(root=root),
        "ray": ray,
        "mlflow": MlflowResource(tracking_uri=tracking or f"sqlite:///{os.path.abspath(root)}/mlflow.db"),
        "corpus": CorpusSettings(
            out_dir=os.environ.get("V2L_CORPUS_DIR", os.path.join(root, "corpus")),
            overrides={"pairs_per_semantic": 1, "eval_pairs_per_semantic": 1, "procedural": 8, "photos": False}
            if small
            else {"pairs_per_semantic": 2},
        ),
        "pretrain": PretrainSettings(out_root=os.environ.get("V2L_PRETRAIN_DIR", "runs/pretrain")),
        "train": TrainSettings(config="tiny.yaml", overrides={**QUICK_RUN, "max_steps": 2 if small else 30}),
        "evaluation": EvalSettings(config="eval_tiny.yaml", overrides={"workers": 0} if small else {}),
        "library": LibrarySettings(config="library_tiny.yaml"),
    }
    running = name != "test"
    return Environment(
        name,
        resources,
        dg.DefaultScheduleStatus.RUNNING if name == "cluster" else dg.DefaultScheduleStatus.STOPPED,
        dg.DefaultSensorStatus.RUNNING if running else dg.DefaultSensorStatus.STOPPED,
    )
