"""`v2l evaluate ...`: the measurements behind the bars, written into the committed models' cards."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from v2l.cli.options import count_option, float_option, steps_option, text_option, threads_option, workers_option

evaluate_app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Measure the committed models and write the results into their cards.",
)


@evaluate_app.command("world")
def world(
    per_semantic: int = count_option(
        4, "--per-semantic", hi=10_000, help="held-out first frames per training semantic"
    ),
    steps: int = steps_option(25),
    weights: Optional[Path] = typer.Option(
        None,
        "--weights",
        help="backbone folder to measure, e.g. runs/pretrain/backbone/model (default: the committed one)",
    ),
    judge_dir: Optional[Path] = typer.Option(None, "--judge", help="judge folder (default: the committed one)"),
    write: bool = typer.Option(True, "--write/--no-write", help="update that backbone's transformer card"),
):
    """Base backbone (no LoRA) on held-out content: first-frame PSNR, judge confidence and coverage."""
    from v2l.evaluation.world_bars import measure_world

    metrics = measure_world(weights, judge_dir, per_semantic, steps, write)
    typer.echo(json.dumps(metrics, indent=2))


@evaluate_app.command("judge")
def judge(
    per_semantic: int = count_option(16, "--per-semantic", hi=10_000, help="held-out clips per semantic"),
    write: bool = typer.Option(True, "--write/--no-write", help="update the judge's card"),
):
    """The judge on held-out content, all semantics: real clips and the committed VAE's reconstructions."""
    import torch
    from diffusers import AutoencoderKLCogVideoX

    from v2l.backbones.tiny import TINY_WEIGHTS
    from v2l.cards.card import update_metrics, verify
    from v2l.evaluation.judge import VideoJudge
    from v2l.evaluation.judge_bars import measure_judge
    from v2l.world.sampler import WorldConfig

    verify(TINY_WEIGHTS / "vae")
    vae = AutoencoderKLCogVideoX.from_pretrained(TINY_WEIGHTS / "vae", local_files_only=True).eval()
    with torch.no_grad():
        metrics = measure_judge(VideoJudge.load(TINY_WEIGHTS / "judge"), WorldConfig(), per_semantic, vae)
    # Which VAE the reconstruction accuracy was measured through: it changes when the VAE is retrained.
    metrics["reconstruction_vae_sha256"] = json.loads((TINY_WEIGHTS / "vae" / "card.json").read_text())["files"]
    if write:
        update_metrics(TINY_WEIGHTS / "judge", metrics)
    typer.echo(json.dumps({k: v for k, v in metrics.items() if k != "heldout_content_per_semantic"}, indent=2))


@evaluate_app.command("steer")
def steer(
    semantics: str = text_option(
        "pan_left,zoom_in,melt,sepia", "--semantics", help="seen semantics, comma-separated (at least 3 families)"
    ),
    minutes: float = float_option(
        5.0, "--minutes", lo=0.0, hi=1440.0, lo_open=True, help="training budget per LoRA (the bar allows 10)"
    ),
    samples: int = count_option(16, "--samples", hi=10_000, help="held-out first frames judged per semantic"),
    check_every: float = float_option(
        60.0, "--check-every", lo=0.0, hi=86_400.0, lo_open=True, help="judge every this many training seconds"
    ),
    workers: int = workers_option(1, help="Ray Train workers (semantics are split between them)"),
    out: Path = typer.Option(Path("runs/per_condition"), "--out", help="adapters, results, MLflow store"),
    write: bool = typer.Option(True, "--write/--no-write", help="update the transformer's card"),
    threads: int = threads_option(1, help="torch threads per worker"),
):
    """The old way on Ray Train: a standard rank-4 peft LoRA per semantic, judged as it trains."""
    from v2l.backbones.tiny import TINY_WEIGHTS
    from v2l.baselines.per_condition_job import PerConditionConfig, fit
    from v2l.cards.card import update_metrics

    cfg = PerConditionConfig(
        semantics=[s.strip() for s in semantics.split(",") if s.strip()],
        minutes=minutes,
        samples=samples,
        check_every_s=check_every,
        workers=workers,
        threads=threads,
        out=out,
    )
    summary = fit(cfg)
    if write:
        from v2l.evaluation.hypernet_bars import refresh_committed_comparison

        update_metrics(TINY_WEIGHTS / "transformer", summary, section="per_condition_lora")
        refresh_committed_comparison(TINY_WEIGHTS)  # the hypernetwork's card compares itself with these
    typer.echo(json.dumps({k: v for k, v in summary.items() if k != "per_semantic"}, indent=2))


@evaluate_app.command("probe")
def probe(
    config: Path = typer.Option(Path("pipelines/configs/tiny.yaml"), "--config", help="training config"),
    out: Optional[Path] = typer.Option(None, "--out", help="also write the result here (JSON)"),
):
    """Linear probe: can the reference features the hypernetwork reads classify the semantic? Run before training."""
    from v2l.atomic import write_text_atomic
    from v2l.training.config import load_config
    from v2l.training.probe import probe_reference_features

    result = probe_reference_features(load_config(config))
    text = json.dumps(result, indent=2)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(out, text + "\n")
    typer.echo(text)


@evaluate_app.command("hypernet")
def hypernet(
    checkpoint: Optional[Path] = typer.Option(
        None, "--checkpoint", help="training checkpoint or v2l checkpoint; default: the committed one"
    ),
    per_semantic: int = count_option(4, "--per-semantic", hi=10_000, help="held-out targets per seen semantic"),
    zero_shot_per_semantic: int = count_option(
        8, "--zero-shot-per-semantic", hi=10_000, help="held-out targets per held-out semantic"
    ),
    steps: int = steps_option(25),
    install: bool = typer.Option(
        False, "--install", help="commit --checkpoint as the tiny hypernetwork, with these measurements in its card"
    ),
    codes: bool = typer.Option(
        False, "--codes", help="also generate with the staged recipe's per-semantic codes stored in --checkpoint"
    ),
    out: Optional[Path] = typer.Option(None, "--out", help="also write the result here (JSON)"),
    eval_dir: Path = typer.Option(
        Path("runs/evaluate-hypernet"),
        "--eval-dir",
        help="the evaluation's own files (summary.json, samples.jsonl, report.md)",
    ),
    write: bool = typer.Option(
        True, "--write/--no-write", help="without --checkpoint: update the committed hypernetwork's card"
    ),
    notes: str = text_option("", "--notes", help="with --install: provenance notes for the card"),
    threads: Optional[int] = threads_option(None),
):
    """The release bar: judge accuracy with true vs wrong references on held-out content, seen and zero-shot
    (the evaluation job of `v2l eval` on those splits and arms, in-process)."""
    import torch

    from v2l.atomic import write_text_atomic
    from v2l.backbones.tiny import TINY_WEIGHTS
    from v2l.cards.card import update_metrics
    from v2l.errors import V2LError
    from v2l.evaluation.hypernet_bars import measure_hypernet, per_condition_comparison
    from v2l.training.release import HYPERNET_DIR, install_hypernet, trained_on

    if threads:
        torch.set_num_threads(threads)
    if install and checkpoint is None:
        raise V2LError("--install needs --checkpoint: the training checkpoint to commit as the tiny hypernetwork")
    if install:
        trained_on(checkpoint)  # a checkpoint of another backbone is refused before minutes of measuring
    if codes:
        from v2l.evaluation.checkpoint_codes import checkpoint_codes

        if checkpoint is None or checkpoint_codes(checkpoint) is None:
            raise V2LError(f"--codes: {checkpoint} holds no staged codes; pass a staged-recipe training checkpoint")
    metrics = measure_hypernet(checkpoint, per_semantic, zero_shot_per_semantic, steps, codes=codes, out=eval_dir)
    per_condition = json.loads((TINY_WEIGHTS / "transformer" / "card.json").read_text())["metrics"].get(
        "per_condition_lora", {}
    )
    # The old way beside it: per-condition LoRAs' accuracy, and the hypernetwork's on the same semantics.
    metrics["per_condition_lora"] = per_condition_comparison(
        per_condition, metrics["seen_semantics"]["per_semantic_true_ref"]
    )
    if install:
        install_hypernet(checkpoint, metrics, notes=notes)
    elif checkpoint is None and write:
        update_metrics(HYPERNET_DIR, metrics)
    text = json.dumps(metrics, indent=2)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(out, text + "\n")
    typer.echo(text)
