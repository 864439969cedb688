"""Distributed hypernetwork training on Ray Train (Ray imported only when `fit` runs).

A `TorchTrainer` runs `run_training` in every worker (DDP over hypernetwork + aux, gloo on CPU, NCCL on GPU).
Rank 0 writes checkpoints to the run directory and reports them to Ray; after a worker failure Ray restarts
the group (FailureConfig.max_failures) and every worker resumes from the last checkpoint. With RAY_ADDRESS
(or `ray.address` in the config) the same job runs on an existing cluster; `run_dir` and `ray.storage_path`
must then be storage every node sees. `v2l train`, `python -m pipelines.train_hypernet` and the Dagster asset
all call `fit`.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from v2l import ray_cluster
from v2l.logs import show_messages
from v2l.mlflow_store import absolute_tracking_uri, run_source
from v2l.training.config import TrainConfig
from v2l.training.trainer import run_training


def train_loop_per_worker(config: dict) -> None:
    import ray.train
    import ray.train.torch

    if not logging.getLogger().handlers:  # Ray Train v2 logs the root logger to the console; else our own lines
        show_messages()
    cfg = TrainConfig.model_validate(config["cfg"])
    ctx = ray.train.get_context()
    resume_from = None
    restored = ray.train.get_checkpoint()
    if restored is not None:  # a restart after a failure: Ray hands back the last reported checkpoint
        resume_from = Path(restored.to_directory())

    def report(metrics: dict, checkpoint_dir: Path | None) -> None:
        # Ray's controller takes one report per health check (2 s) and `report` blocks until then: reporting
        # every step stalled training 5x. `report` is also a collective (all ranks, same calls), so which steps
        # report is decided by the step alone, never by time or rank. MLflow gets every logged step regardless.
        step = metrics["step"]
        if not (step % cfg.checkpoint_every == 0 or step == cfg.max_steps or step % cfg.ray.report_every == 0):
            return
        checkpoint = ray.train.Checkpoint.from_directory(str(checkpoint_dir)) if checkpoint_dir else None
        ray.train.report(metrics, checkpoint=checkpoint)

    if os.environ.get("V2L_PID_FILE"):  # lets tests find each worker's process and node
        import json

        node = ray.get_runtime_context().get_node_id()
        Path(os.environ["V2L_PID_FILE"]).with_suffix(f".rank{ctx.get_world_rank()}").write_text(
            json.dumps({"pid": os.getpid(), "node": node})
        )
    run_training(
        cfg,
        ctx.get_world_rank(),
        ctx.get_world_size(),
        report,
        resume_from=resume_from,
        device=ray.train.torch.get_device(),
        command=config.get("command"),
    )


def fit(cfg: TrainConfig, resume: bool = True, command: str | None = None):
    """Run the job on Ray (a local cluster unless RAY_ADDRESS / cfg.ray.address names one); returns the Result.
    `command` is MLflow's run source (default: this process's command line, e.g. `v2l train --config X`)."""
    import shutil
    import time

    from ray.train import CheckpointConfig, FailureConfig, RunConfig, ScalingConfig
    from ray.train.torch import TorchTrainer

    if not resume:
        shutil.rmtree(cfg.run_dir / "checkpoints", ignore_errors=True)
    cfg.run_dir.mkdir(parents=True, exist_ok=True)
    # Workers do not share the driver's working directory: ship absolute paths (the MLflow store's too).
    absolute = {"run_dir": cfg.run_dir.resolve()}
    absolute["tracking"] = cfg.tracking.model_copy(
        update={"uri": absolute_tracking_uri(cfg.tracking.uri or f"sqlite:///{absolute['run_dir'] / 'mlflow.db'}")}
    )
    if cfg.ray.storage_path and "://" not in cfg.ray.storage_path:
        absolute["ray"] = cfg.ray.model_copy(update={"storage_path": str(Path(cfg.ray.storage_path).resolve())})
    if cfg.backbone_weights is not None:
        absolute["backbone_weights"] = cfg.backbone_weights.resolve()
    if cfg.data.corpus is not None:
        absolute["data"] = cfg.data.model_copy(update={"corpus": cfg.data.corpus.resolve()})
    cfg = cfg.model_copy(update=absolute)
    ray_cluster.connect(cfg.ray.address, num_cpus=max(2, cfg.ray.workers * cfg.ray.cpus_per_worker))
    storage = cfg.ray.storage_path or str(cfg.run_dir / "ray")
    env = {k: os.environ[k] for k in ("V2L_PID_FILE", "MLFLOW_TRACKING_URI") if k in os.environ}
    if "MLFLOW_TRACKING_URI" in env:
        env["MLFLOW_TRACKING_URI"] = absolute_tracking_uri(env["MLFLOW_TRACKING_URI"])
    trainer = TorchTrainer(
        train_loop_per_worker,
        train_loop_config={"cfg": cfg.model_dump(mode="json"), "command": command or run_source()},
        torch_config=ray_cluster.torch_config(),
        scaling_config=ScalingConfig(
            num_workers=cfg.ray.workers, use_gpu=cfg.ray.use_gpu, resources_per_worker={"CPU": cfg.ray.cpus_per_worker}
        ),
        # A fresh Ray run per call: resuming is ours to do (from run_dir's checkpoints), and Ray would otherwise
        # hand back an earlier finished run of the same name without training.
        run_config=RunConfig(
            name=f"{cfg.name}-{time.strftime('%Y%m%d-%H%M%S')}",
            storage_path=storage,
            failure_config=FailureConfig(max_failures=cfg.ray.max_failures),
            checkpoint_config=CheckpointConfig(num_to_keep=cfg.keep_last),
            worker_runtime_env={"env_vars": env} if env else None,
        ),
    )
    return trainer.fit()
