"""`v2l eval`: the evaluation job (Ray actor pool or in-process), tracked in MLflow, optionally registered."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from v2l.cli.options import count_option, int_option, steps_option, text_option, threads_option
from v2l.cli.reference_options import fps_option, start_option, window_option


def eval_command(
    split: str = text_option(
        "all", "--split", help="seen | zeroshot (tier 1) | novel (tier 2) | real | all (or a comma-separated list)"
    ),
    out: Optional[Path] = typer.Option(
        None,
        "--out",
        help="folder for summary.json, samples.jsonl, report.md, "
        "contact sheets, charts, videos, and the MLflow store by default "
        "(runs/eval)",
    ),
    config: Optional[Path] = typer.Option(None, "--config", help="YAML evaluation config; options override it"),
    checkpoint: Optional[Path] = typer.Option(
        None, "--checkpoint", help="checkpoint folder to evaluate (default: the committed hypernetwork)"
    ),
    model: Optional[str] = text_option(
        None,
        "--model",
        help="registered model: models:/v2l-hypernet@champion "
        "or models:/v2l-hypernet/VERSION (needs MLFLOW_TRACKING_URI)",
    ),
    per_semantic: Optional[int] = count_option(
        None, "--per-semantic", hi=100_000, help="targets per seen semantic (4)"
    ),
    zeroshot_per_semantic: Optional[int] = count_option(
        None, "--zeroshot-per-semantic", hi=100_000, help="targets per held-out semantic (8)"
    ),
    semantics: Optional[str] = text_option(None, "--semantics", help="only these semantics, comma-separated"),
    workers: Optional[int] = int_option(None, "--workers", lo=0, hi=4096, help="Ray actors (0: in-process loop)"),
    steps: Optional[int] = steps_option(None, help="sampling steps (25)"),
    clip_model: Optional[str] = text_option(
        None,
        "--clip-model",
        help="CLIP scorer: lit, tiny or an open_clip "
        "architecture such as ViT-B-32 (default: the best committed one "
        "that meets the CLIP bar)",
    ),
    clip_weights: Optional[Path] = typer.Option(None, "--clip-weights", help="local weights file for --clip-model"),
    per_condition: Optional[Path] = typer.Option(
        None,
        "--per-condition",
        help="`v2l evaluate steer` output folder or a labelled LoRA library: adds the per-condition LoRA arm",
    ),
    real_clips: Optional[Path] = typer.Option(
        None, "--real-clips", help="clips of `v2l content fetch` (default runs/content)"
    ),
    tracking_uri: Optional[str] = text_option(
        None, "--tracking-uri", help="MLflow store (default: MLFLOW_TRACKING_URI, else OUT/mlflow.db)"
    ),
    register: bool = typer.Option(
        False,
        "--register",
        help="register the hypernetwork as v2l-hypernet (champion only if it beats the current one)",
    ),
    threads: Optional[int] = threads_option(None, help="torch threads per actor"),
    start: Optional[float] = start_option(),
    fps: Optional[float] = fps_option(),
    window: Optional[str] = window_option(),
):
    """Evaluate a hypernetwork: judge accuracy and agreement, PSNR/SSIM, CLIP-T/I, motion similarity and cost per
    arm, split, family and semantic, with bootstrap 95 % intervals; an MLflow run; optionally the registry."""
    from pydantic import ValidationError

    from v2l.cli.errors import config_error
    from v2l.cli.reference_options import given
    from v2l.evaluation.job import EvalConfig
    from v2l.evaluation.job import load_eval_config as load_config
    from v2l.evaluation.ray_actors import run
    from v2l.video.reference_sampling import sampling_from_options

    overrides = {
        "split": split if config is None or split != "all" else None,
        "out": out,
        "checkpoint": checkpoint,
        "model": model,
        "per_semantic": per_semantic,
        "zeroshot_per_semantic": zeroshot_per_semantic,
        "semantics": [s.strip() for s in semantics.split(",") if s.strip()] if semantics else None,
        "workers": workers,
        "steps": steps,
        "clip_model": clip_model,
        "clip_weights": clip_weights,
        "per_condition": per_condition,
        "real_clips": real_clips,
        "tracking_uri": tracking_uri,
        "register": register or None,
        "threads": threads,
        # --start/--fps/--window: how the `real` split's clips are sampled (else the config's, else default)
        "reference": sampling_from_options(start, fps, window) if given(start, fps, window) else None,
    }
    try:
        cfg = (
            load_config(config, **overrides)
            if config is not None
            else EvalConfig.model_validate({k: v for k, v in overrides.items() if v is not None})
        )
    except ValidationError as exc:
        raise config_error(exc) from None
    summary = run(cfg)
    typer.echo((Path(cfg.out) / "report.md").read_text())
    if "registry" in summary:
        r = summary["registry"]
        typer.echo(f"registered {r['name']} version {r['version']} as {r['alias']}: {r['reason']}")
