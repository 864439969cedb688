"""The old way on Ray Train: one standard peft LoRA per semantic (`v2l evaluate steer`,
`python -m pipelines.train_per_condition`; Ray imported only when `fit` runs).

A `TorchTrainer` gives each worker its share of the semantics. Each LoRA is judged on held-out first frames
every `check_every_s` of training, so the result records the training time it took to reach its final judge
accuracy: the per-condition cost Video2LoRA is compared against. Adapters (safetensors) and a result JSON per
semantic go to `out`; params and metrics go to MLflow (a sqlite file in `out` unless `tracking_uri` is set).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from v2l import ray_cluster
from v2l.atomic import atomic_path, write_text_atomic
from v2l.backbones import get_spec
from v2l.backbones.tiny import TINY_WEIGHTS
from v2l.baselines.per_condition import adapter_state, train_lora
from v2l.config import load_config_file
from v2l.evaluation.judge import VideoJudge
from v2l.evaluation.world_bars import judged_accuracy
from v2l.mlflow_store import absolute_tracking_uri
from v2l.training.tracking import Tracker
from v2l.world.sampler import WorldConfig


class PerConditionConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    semantics: list[str] = ["pan_left", "zoom_in", "melt", "sepia"]
    minutes: float = 5.0  # training budget per LoRA (the bar allows 10)
    rank: int = 4
    clips: int = 768  # rendered training clips of the semantic (VAE-encoded once)
    check_every_s: float = 60.0
    samples: int = 16  # held-out first frames judged per check
    sample_steps: int = 25
    workers: int = 1
    threads: int = 1  # torch threads per worker
    seed: int = 0
    out: Path = Path("runs/per_condition")
    tracking_uri: str | None = None


def _judge_curve_point(backbone, judge, cfg: PerConditionConfig, semantic: str, seconds: float, step: int) -> dict:
    acc = judged_accuracy(backbone, judge, WorldConfig(), semantic, cfg.samples, steps=cfg.sample_steps, seed=cfg.seed)
    return {"seconds": seconds, "step": step, "judge_accuracy": acc}


def train_one(cfg: PerConditionConfig, semantic: str, report=lambda metrics: None) -> dict:
    """Train, judge along the way and at the end, save the adapter and the result (atomically)."""
    import torch
    from safetensors.torch import save_file

    torch.set_num_threads(cfg.threads)
    judge = VideoJudge.load(TINY_WEIGHTS / "judge")
    backbone = get_spec("tiny").default()
    folder = cfg.out / semantic
    folder.mkdir(parents=True, exist_ok=True)
    # The judge curve so far survives a restart with the training checkpoints (train/) it belongs to.
    curve_file = folder / "train" / "curve.json"
    curve_file.parent.mkdir(exist_ok=True)
    curve: list[dict] = json.loads(curve_file.read_text()) if curve_file.is_file() else []
    base = _judge_curve_point(backbone, judge, cfg, semantic, 0.0, 0)["judge_accuracy"]

    def progress(seconds: float, step: int) -> None:
        curve.append(_judge_curve_point(backbone, judge, cfg, semantic, seconds, step))
        write_text_atomic(curve_file, json.dumps(curve) + "\n")
        report({"semantic": semantic, **curve[-1]})

    run = train_lora(
        backbone,
        semantic,
        minutes=cfg.minutes,
        rank=cfg.rank,
        clips=cfg.clips,
        seed=cfg.seed,
        progress=progress,
        check_every_s=cfg.check_every_s,
        run_dir=folder / "train",
        checkpoint_every_s=cfg.check_every_s,
    )
    curve.append(_judge_curve_point(backbone, judge, cfg, semantic, run["seconds"], run["steps"]))
    final = curve[-1]["judge_accuracy"]
    reached = next(p for p in curve if p["judge_accuracy"] >= final)
    result = {
        **run,
        "judge_accuracy": final,
        "base_judge_accuracy": base,
        "curve": curve,
        "seconds_to_final_accuracy": reached["seconds"],
        "samples": cfg.samples,
        "rank": cfg.rank,
    }
    with atomic_path(folder / "adapter.safetensors") as tmp:
        save_file(
            adapter_state(backbone, semantic),
            str(tmp),
            metadata={"format": "peft-lora", "semantic": semantic, "rank": str(cfg.rank), "base": backbone.source},
        )
    write_text_atomic(folder / "result.json", json.dumps(result, indent=2) + "\n")
    report({"semantic": semantic, "judge_accuracy": final, "seconds": run["seconds"], "done": True})
    return result


def train_loop_per_worker(config: dict) -> None:
    import ray.train

    cfg = PerConditionConfig.model_validate(config["cfg"])
    ctx = ray.train.get_context()
    for semantic in cfg.semantics[ctx.get_world_rank() :: ctx.get_world_size()]:
        train_one(cfg, semantic, report=lambda metrics: ray.train.report(metrics))


def summarise(cfg: PerConditionConfig) -> dict:
    results = {s: json.loads((cfg.out / s / "result.json").read_text()) for s in cfg.semantics}
    n = len(results)
    return {
        "per_semantic": results,
        "mean_judge_accuracy": sum(r["judge_accuracy"] for r in results.values()) / n,
        "mean_base_judge_accuracy": sum(r["base_judge_accuracy"] for r in results.values()) / n,
        "mean_train_seconds": sum(r["seconds"] for r in results.values()) / n,
        "mean_seconds_to_final_accuracy": sum(r["seconds_to_final_accuracy"] for r in results.values()) / n,
    }


def fit(cfg: PerConditionConfig, command: str | None = None) -> dict:
    """Run on Ray (a local cluster unless RAY_ADDRESS names one), then log the summary, the adapters and their
    results to MLflow (artifacts under `out`; `command` is the run source, default this process's command line)."""
    from ray.train import RunConfig, ScalingConfig
    from ray.train.torch import TorchTrainer

    cfg = cfg.model_copy(update={"out": cfg.out.resolve()})  # workers do not share our working directory
    cfg.out.mkdir(parents=True, exist_ok=True)
    ray_cluster.connect(None, num_cpus=max(2, cfg.workers))
    trainer = TorchTrainer(
        train_loop_per_worker,
        train_loop_config={"cfg": cfg.model_dump(mode="json")},
        torch_config=ray_cluster.torch_config(),
        scaling_config=ScalingConfig(num_workers=cfg.workers, resources_per_worker={"CPU": 1}),
        run_config=RunConfig(name=f"per-condition-{time.strftime('%Y%m%d-%H%M%S')}", storage_path=str(cfg.out / "ray")),
    )
    result = trainer.fit()
    if result.error is not None:
        raise result.error
    summary = summarise(cfg)
    tracker = Tracker(
        absolute_tracking_uri(cfg.tracking_uri or f"sqlite:///{cfg.out / 'mlflow.db'}"),
        "v2l-per-condition",
        f"per-condition-{len(cfg.semantics)}",
        cfg.out,
        source=command,
    )
    tracker.params({k: str(v) for k, v in cfg.model_dump(mode="json").items()})
    for i, (name, r) in enumerate(summary["per_semantic"].items()):
        tracker.metrics(
            {
                f"{name}.judge_accuracy": r["judge_accuracy"],
                f"{name}.train_seconds": r["seconds"],
                f"{name}.seconds_to_final_accuracy": r["seconds_to_final_accuracy"],
            },
            i,
        )
    tracker.metrics({k: v for k, v in summary.items() if k.startswith("mean_")}, len(summary["per_semantic"]))
    for name in summary["per_semantic"]:
        tracker.artifact(cfg.out / name / "adapter.safetensors", f"adapters/{name}")
        tracker.artifact(cfg.out / name / "result.json", f"adapters/{name}")
    tracker.close()
    return summary


def load_per_condition_config(path: str | Path, **overrides) -> PerConditionConfig:
    return load_config_file(PerConditionConfig, path, "per-condition config", "pipelines/configs/", **overrides)
