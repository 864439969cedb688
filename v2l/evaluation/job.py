"""The evaluation job: plan the splits' generation chunks, run them (in-process or on a runner such as the Ray
actor pool), score every (target, arm) and aggregate with bootstrap intervals.

`evaluate(cfg, run_tasks)` is the one code path: `v2l eval`, `pipelines/evaluate.py` and the release measurement
of `v2l evaluate hypernet` all go through it. Writes `summary.json`, `samples.jsonl`, `report.md` and figures to
`cfg.out` (atomically), then the MLflow run (and, with `register`, the registry decision).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator

from v2l.backbones.tiny import TINY_WEIGHTS
from v2l.config import load_config_file
from v2l.errors import V2LError
from v2l.evaluation import metrics as M
from v2l.evaluation.arms import (
    ARMS,
    SplitPlan,
    check_per_condition,
    load_per_condition,
    plan_tasks,
    real_targets,
    split_semantics,
    synthetic_targets,
)
from v2l.evaluation.checkpoint_codes import checkpoint_codes
from v2l.evaluation.clip_scorer import clip_scorer
from v2l.evaluation.judge import VideoJudge
from v2l.evaluation.metrics import bootstrap_ci, mean_ci
from v2l.evaluation.report import write_outputs
from v2l.evaluation.runner import TaskResult, run_in_process
from v2l.evaluation.tracking import log_evaluation
from v2l.model import default_model
from v2l.registry import resolve_model
from v2l.video.reference_sampling import ReferenceSampling
from v2l.world.sampler import WorldConfig

log = logging.getLogger(__name__)

SPLIT_CHOICES = ("seen", "zeroshot", "novel", "real", "all")
METRICS = (
    "judge_acc",
    "judge_agreement",
    "psnr",
    "ssim",
    "clip_t",
    "clip_i_adjacent",
    "clip_i_first",
    "motion_sim",
    "flow_epe",
    "seconds_per_video",
    "seconds_per_lora",
)
REAL_METRICS = ("judge_agreement", "motion_sim", "seconds_per_video", "seconds_per_lora")


class EvalConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    split: str = "all"  # seen | zeroshot (tier 1) | novel (tier 2) | real | all, or a comma-separated list
    out: Path = Path("runs/eval")
    checkpoint: Path | None = None  # a checkpoint folder; None with no `model`: the committed hypernetwork
    model: str | None = None  # models:/v2l-hypernet@champion, models:/v2l-hypernet/3
    per_semantic: int = 4  # held-out targets per seen semantic
    zeroshot_per_semantic: int = 8  # also the novel split's
    semantics: list[str] | None = None  # keep only these semantics (tiny evaluations)
    arms: list[str] = list(ARMS)
    steps: int = 25
    seed: int = 0
    batch: int = 24  # targets per generation chunk (with the seed, fixes every video)
    workers: int = 0  # Ray actors; 0 = the in-process loop
    threads: int = 1  # torch threads per actor / in-process
    clip_model: str | None = None  # None: v2l.evaluation.clip_scorer.default_clip_model()
    clip_weights: Path | None = None
    per_condition: Path | None = None  # a `v2l evaluate steer` output folder or a labelled LoRA library
    real_clips: Path = Path("runs/content")  # `v2l content fetch --dest`
    real_limit: int | None = None  # at most this many real clips
    reference: ReferenceSampling = ReferenceSampling()  # how the real clips are sampled in time (as `v2l predict`)
    sample_videos: int = 2  # mp4s kept per split and arm
    mlflow: bool = True
    tracking_uri: str | None = None
    experiment: str = "v2l-eval"
    # Register the hypernetwork behind the champion gate: `--register` of `v2l eval`, `register:` in a YAML config.
    register_model: bool = Field(False, validation_alias=AliasChoices("register_model", "register"))
    ray_address: str | None = None

    @field_validator("split")
    @classmethod
    def _known_splits(cls, value: str) -> str:
        parts = [p.strip() for p in value.split(",") if p.strip()]
        bad = [p for p in parts if p not in SPLIT_CHOICES]
        if bad or not parts:
            raise ValueError(f"split {value!r}: choose from {', '.join(SPLIT_CHOICES)} (or a comma-separated list)")
        return ",".join(parts)

    def splits(self) -> list[str]:
        parts = self.split.split(",")
        order = [s for s in SPLIT_CHOICES if s != "all"]
        return order if "all" in parts else [s for s in order if s in parts]


def unjudgeable(cfg: EvalConfig, judge_classes: list[str]) -> dict[str, list[str]]:
    """Splits whose semantics the judge was not trained on: {split: missing semantics}. Asking for such a split
    by name is an error; `all` leaves it out and the summary says why."""
    missing = {}
    for split in cfg.splits():
        if split != "real":
            lost = [n for n in split_semantics(split, cfg.semantics) if n not in judge_classes]
            if lost:
                missing[split] = lost
    named = [s for s in missing if s in cfg.split.split(",")]
    if named:
        raise V2LError(
            f"split {named[0]}: the judge does not know {', '.join(missing[named[0]])} (it was trained "
            f"before they were registered); retrain it with `v2l pretrain judge --install`, or leave "
            f"the split out"
        )
    return missing


def build_plans(cfg: EvalConfig, model, codes: dict | None, skip: tuple[str, ...] = ()) -> list[SplitPlan]:
    unknown = sorted(set(cfg.arms) - set(ARMS))
    if unknown:
        raise V2LError(f"arms {unknown} are not known; choose from {', '.join(ARMS)}")
    world = WorldConfig()
    per_condition = load_per_condition(cfg.per_condition) if "per_condition" in cfg.arms else {}
    check_per_condition(per_condition, model)
    plans = []
    for split in [s for s in cfg.splits() if s not in skip]:
        if split == "real":
            plan = SplitPlan(split, real_targets(world, model, cfg.real_clips, cfg.seed, cfg.real_limit, cfg.reference))
        else:
            names = split_semantics(split, cfg.semantics)
            if not names:
                continue
            n = cfg.per_semantic if split == "seen" else cfg.zeroshot_per_semantic
            plan = SplitPlan(split, synthetic_targets(world, split, names, n, cfg.seed), semantics=names)
        seen_loras = {k: v for k, v in per_condition.items() if k in plan.semantics} if split == "seen" else {}
        plans.append(plan_tasks(plan, cfg.arms, cfg.seed, cfg.batch, codes if split != "real" else None, seen_loras))
    return plans


def _arm_reference_label(arm: str) -> str:
    """Which reference clip a generation's judge agreement is measured against."""
    return "wrong" if arm == "wrong_ref" else "true"


def score(plans: list[SplitPlan], results: list[TaskResult], judge, scorer, per_condition: dict) -> list[dict]:
    """One row per (target, arm): every metric that applies (NaN otherwise), plus the arm's videos kept aside."""

    by_split = {p.split: p for p in plans}
    rows = []
    # Judge the references once: agreement compares a generation with the judge's label of its reference.
    ref_label = {}
    for plan in plans:
        for which in ("true", "wrong"):
            refs = torch.stack([getattr(t, f"{which}_ref") for t in plan.targets])
            ref_label[(plan.split, which)] = judge.probabilities(refs).argmax(-1).tolist()
    grouped: dict[tuple[str, str], list[TaskResult]] = {}
    for r in results:
        grouped.setdefault((r.split, r.arm), []).append(r)
    for (split, arm), parts in grouped.items():
        plan = by_split[split]
        indices = [i for r in parts for i in r.indices]
        videos = torch.cat([r.videos for r in parts])
        pred = judge.probabilities(videos).argmax(-1).tolist()  # the whole arm at once, as the release did
        per_video = {i: r.generate_seconds / len(r.indices) for r in parts for i in r.indices}
        per_lora = {i: r.lora_seconds / len(r.indices) for r in parts for i in r.indices}
        clip_scores = scorer.score(videos, [plan.targets[i].caption for i in indices]) if split != "real" else None
        for k, (i, video) in enumerate(zip(indices, videos)):
            t = plan.targets[i]
            row = {
                "split": split,
                "arm": arm,
                "index": i,
                "semantic": t.semantic,
                "family": t.family,
                "caption": t.caption,
                "content": t.content_id,
                "reference": t.true_ref_source,
                "judge_pred": judge.classes[pred[k]],
                "reference_judged": judge.classes[ref_label[(split, "true")][i]],
            }
            if arm == "wrong_ref":
                row.update(reference=t.wrong_ref_source, wrong_semantic=t.wrong_semantic)
                if t.wrong_semantic is not None:  # does it follow the wrong reference instead of the target?
                    row["follows_wrong_semantic"] = float(judge.classes[pred[k]] == t.wrong_semantic)
            m = dict.fromkeys(METRICS, float("nan"))
            m["judge_agreement"] = float(pred[k] == ref_label[(split, _arm_reference_label(arm))][i])
            m["motion_sim"] = M.motion_similarity(video, t.true_ref)
            m["seconds_per_video"] = per_video[i]
            if arm in ("true_ref", "wrong_ref"):
                m["seconds_per_lora"] = per_lora[i]
            elif arm == "per_condition" and per_condition.get(t.semantic) is not None:
                m["seconds_per_lora"] = per_condition[t.semantic].train_seconds or float("nan")
            if t.semantic is not None:
                m["judge_acc"] = float(judge.classes[pred[k]] == t.semantic)
            if t.truth is not None:
                m["psnr"], m["ssim"] = M.psnr(video, t.truth), M.ssim(video, t.truth)
                m["flow_epe"] = M.flow_epe(video, t.truth)
            if clip_scores is not None:
                for key in ("clip_t", "clip_i_adjacent", "clip_i_first"):
                    m[key] = clip_scores[key][k]
            rows.append({**row, **m})
    rows.sort(key=lambda r: (r["split"], r["index"], ARMS.index(r["arm"])))
    return rows


def aggregate(rows: list[dict], plans: list[SplitPlan], seed: int = 0) -> dict:
    """Per split, per arm: every metric over all targets, per family and per semantic, with 95 % intervals;
    and the paired guard (true minus wrong reference) on judge accuracy and agreement."""

    out = {}
    for plan in plans:
        split_rows = [r for r in rows if r["split"] == plan.split]
        names = REAL_METRICS if plan.split == "real" else METRICS
        arms = [a for a in ARMS if any(r["arm"] == a for r in split_rows)]
        result = {"targets": len(plan.targets), "semantics": plan.semantics, "arms": {}}
        for arm in arms:
            arm_rows = [r for r in split_rows if r["arm"] == arm]
            entry = {"samples": len(arm_rows), "all": {m: mean_ci([r[m] for r in arm_rows], seed) for m in names}}
            for group in ("family", "semantic"):
                keys = sorted({r[group] for r in arm_rows if r[group] is not None})
                entry[f"per_{group}"] = {
                    key: {m: mean_ci([r[m] for r in arm_rows if r[group] == key], seed) for m in names} for key in keys
                }
            result["arms"][arm] = entry
        guard = {}
        if "true_ref" in arms and "wrong_ref" in arms:
            true = {r["index"]: r for r in split_rows if r["arm"] == "true_ref"}
            wrong = {r["index"]: r for r in split_rows if r["arm"] == "wrong_ref"}
            common = sorted(set(true) & set(wrong))
            for m in ("judge_acc", "judge_agreement", "motion_sim"):
                diff = np.array([true[i][m] - wrong[i][m] for i in common], dtype=float)
                if np.isfinite(diff).any():
                    guard[f"true_minus_wrong_{m}"] = {
                        "mean": float(np.nanmean(diff)),
                        "ci95": bootstrap_ci(diff, seed),
                        "n": int(np.isfinite(diff).sum()),
                    }
        follows = [r["follows_wrong_semantic"] for r in split_rows if "follows_wrong_semantic" in r]
        if follows:
            guard["wrong_ref_follows_its_semantic"] = mean_ci(follows, seed)
        result["guard"] = guard
        if plan.semantics:
            result["chance"] = 1 / len(plan.semantics)
        out[plan.split] = result
    return out


def reference_judge_accuracy(plans: list[SplitPlan], judge) -> dict:
    """How often the judge names the true reference clips themselves correctly (synthetic splits)."""
    out = {}
    for plan in plans:
        if plan.split == "real":
            continue
        pred = judge.probabilities(torch.stack([t.true_ref for t in plan.targets])).argmax(-1)
        out[plan.split] = float(np.mean([judge.classes[int(p)] == t.semantic for p, t in zip(pred, plan.targets)]))
    return out


def evaluate(cfg: EvalConfig, run_tasks: Callable | None = None) -> dict:
    """The whole evaluation. `run_tasks(tasks, checkpoint, cfg) -> [TaskResult]` (default: the in-process loop)."""

    t_start = time.perf_counter()
    if cfg.model is not None and cfg.checkpoint is not None:
        raise V2LError("pass --checkpoint DIR or --model models:/NAME@ALIAS, not both")
    checkpoint = resolve_model(cfg.model, cfg.tracking_uri) if cfg.model is not None else cfg.checkpoint
    model = default_model(checkpoint)
    if model.random_weights:
        raise V2LError("no hypernetwork to evaluate: pass --checkpoint DIR or --model models:/v2l-hypernet@champion")
    codes = checkpoint_codes(checkpoint) if checkpoint is not None and "semantic_code" in cfg.arms else None
    judge = VideoJudge.load(TINY_WEIGHTS / "judge")
    skipped = unjudgeable(cfg, judge.classes)
    for split, lost in skipped.items():
        log.warning(f"split {split} left out: the judge does not know {', '.join(lost)}")
    scorer = clip_scorer(cfg.clip_model, cfg.clip_weights)
    plans = build_plans(cfg, model, codes, tuple(skipped))
    tasks = [t for p in plans for t in p.tasks]
    log.info(
        f"evaluating {model.source}: {sum(len(p.targets) for p in plans)} targets, {len(tasks)} chunks, "
        f"{sum(len(t.indices) for t in tasks)} videos, {cfg.workers or 'in-process'} worker(s)"
    )
    t_gen = time.perf_counter()
    if run_tasks is None:
        results = run_in_process(
            tasks,
            checkpoint,
            cfg.steps,
            cfg.threads,
            progress=lambda r: log.info(f"  {r.split}/{r.arm}: {len(r.indices)} videos in {r.generate_seconds:.1f} s"),
        )
    else:
        results = run_tasks(tasks, checkpoint, cfg)
    generation_seconds = time.perf_counter() - t_gen
    per_condition = load_per_condition(cfg.per_condition) if "per_condition" in cfg.arms else {}
    rows = score(plans, results, judge, scorer, per_condition)
    videos = sum(len(r.indices) for r in results)
    summary = {
        "model": {
            "source": model.source,
            "spec": cfg.model,
            "version": model.version(),
            "checkpoint": str(checkpoint) if checkpoint is not None else None,
        },
        "config": cfg.model_dump(mode="json"),
        "clip_scorer": scorer.name,
        "judge_classes": len(judge.classes),
        "splits": aggregate(rows, plans, cfg.seed),
        "splits_left_out": {s: f"the judge does not know {', '.join(lost)}" for s, lost in skipped.items()},
        "reference_clip_judge_accuracy": reference_judge_accuracy(plans, judge),
        "per_condition_train_seconds": {k: v.train_seconds for k, v in per_condition.items()},
        "throughput": {
            "videos": videos,
            "generation_wall_seconds": generation_seconds,
            "videos_per_second": videos / generation_seconds if generation_seconds > 0 else None,
            "workers": cfg.workers,
        },
    }
    summary["wall_seconds"] = time.perf_counter() - t_start
    write_outputs(cfg, summary, rows, plans, results)
    if cfg.mlflow:
        log_evaluation(cfg, summary, checkpoint)
    return summary


def load_eval_config(path: str | Path, **overrides) -> EvalConfig:
    """EvalConfig from a YAML mapping, options on top; a file that is not one is a one-line error naming it."""

    return load_config_file(EvalConfig, path, "--config", "pipelines/configs/eval_tiny.yaml", **overrides)
