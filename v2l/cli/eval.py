"""`v2l eval`: the evaluation job (Ray actor pool or in-process), tracked in MLflow, optionally registered."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer


def eval_command(
        split: str = typer.Option("all", "--split", help="seen | zeroshot | real | all (or a comma-separated list)"),
        out: Optional[Path] = typer.Option(None, "--out", help="folder for summary.json, samples.jsonl, report.md, "
                                           "contact sheets, charts, videos, and the MLflow store by default "
                                           "(runs/eval)"),
        config: Optional[Path] = typer.Option(None, "--config", help="YAML evaluation config; options override it"),
        checkpoint: Optional[Path] = typer.Option(None, "--checkpoint", help="checkpoint folder to evaluate "
                                                  "(default: the committed hypernetwork)"),
        model: Optional[str] = typer.Option(None, "--model", help="registered model: models:/v2l-hypernet@champion "
                                            "or models:/v2l-hypernet/VERSION (needs MLFLOW_TRACKING_URI)"),
        per_semantic: Optional[int] = typer.Option(None, "--per-semantic", help="targets per seen semantic (4)"),
        zeroshot_per_semantic: Optional[int] = typer.Option(None, "--zeroshot-per-semantic",
                                                            help="targets per held-out semantic (8)"),
        semantics: Optional[str] = typer.Option(None, "--semantics", help="only these semantics, comma-separated"),
        workers: Optional[int] = typer.Option(None, "--workers", help="Ray actors (0: in-process loop)"),
        steps: Optional[int] = typer.Option(None, "--steps", help="sampling steps (25)"),
        clip_model: Optional[str] = typer.Option(None, "--clip-model", help="CLIP scorer: lit, tiny or an open_clip "
                                                 "architecture such as ViT-B-32 (default: the best committed one "
                                                 "that meets the CLIP bar)"),
        clip_weights: Optional[Path] = typer.Option(None, "--clip-weights", help="local weights file for --clip-model"),
        per_condition: Optional[Path] = typer.Option(None, "--per-condition", help="`v2l evaluate steer` output "
                                                     "folder: adds the per-condition LoRA arm"),
        real_clips: Optional[Path] = typer.Option(None, "--real-clips", help="clips of `v2l content fetch` "
                                                  "(default runs/content)"),
        tracking_uri: Optional[str] = typer.Option(None, "--tracking-uri", help="MLflow store (default: "
                                                   "MLFLOW_TRACKING_URI, else OUT/mlflow.db)"),
        register: bool = typer.Option(False, "--register", help="register the hypernetwork as v2l-hypernet "
                                      "(champion only if it beats the current one)"),
        threads: Optional[int] = typer.Option(None, "--threads", help="torch threads per actor")):
    """Evaluate a hypernetwork: judge accuracy and agreement, PSNR/SSIM, CLIP-T/I, motion similarity and cost per
    arm, split, family and semantic, with bootstrap 95 % intervals; an MLflow run; optionally the registry."""
    from pydantic import ValidationError

    from pipelines.evaluate import load_config, run
    from v2l.errors import V2LError
    from v2l.evaluation.job import EvalConfig

    overrides = {"split": split if config is None or split != "all" else None, "out": out, "checkpoint": checkpoint,
                 "model": model, "per_semantic": per_semantic, "zeroshot_per_semantic": zeroshot_per_semantic,
                 "semantics": [s.strip() for s in semantics.split(",") if s.strip()] if semantics else None,
                 "workers": workers, "steps": steps, "clip_model": clip_model, "clip_weights": clip_weights,
                 "per_condition": per_condition, "real_clips": real_clips, "tracking_uri": tracking_uri,
                 "register": register or None, "threads": threads}
    try:
        cfg = load_config(config, **overrides) if config is not None else EvalConfig.model_validate(
            {k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        err = exc.errors()[0]
        raise V2LError(f"--{'-'.join(str(p) for p in err['loc'])}: {err['msg']}") from None
    summary = run(cfg, say=lambda m: typer.echo(m, err=True))
    typer.echo((Path(cfg.out) / "report.md").read_text())
    if "registry" in summary:
        r = summary["registry"]
        typer.echo(f"registered {r['name']} version {r['version']} as {r['alias']}: {r['reason']}")
