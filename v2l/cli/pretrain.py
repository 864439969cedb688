"""`v2l pretrain ...`: build the tiny world's own models (each resumable from its checkpoints)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from v2l.cli.options import count_option, float_option, max_steps_option, minutes_option, seed_option, threads_option

CFG = " (default: v2l.pretrain's config model)"  # each default lives in its *PretrainConfig only
SMOKE_HELP = "2 steps on tiny pools: checks the pipeline runs, trains nothing useful (never installed)"


pretrain_app = typer.Typer(
    add_completion=False, no_args_is_help=True, help="Pretrain the tiny world: VAE, I2V backbone, judge, CLIP."
)


@pretrain_app.command("vae")
def vae(
    out: Path = typer.Option(Path("runs/pretrain/vae"), "--out", help="run directory (checkpoints, model/)"),
    minutes: Optional[float] = minutes_option(None, help="wall-time budget for the training loop" + CFG),
    max_steps: Optional[int] = max_steps_option(),
    seed: Optional[int] = seed_option(None, help="random seed" + CFG),
    pool_clips: Optional[int] = count_option(None, "--pool-clips", help="rendered training clips held in memory" + CFG),
    decoder_minutes: Optional[float] = float_option(
        None, "--decoder-minutes", lo=0.0, hi=7 * 24 * 60.0, help="then fine-tune the decoder alone this long (0: skip)"
    ),
    threads: Optional[int] = threads_option(None, help="torch threads (1 leaves a core for other work)" + CFG),
    install: bool = typer.Option(False, "--install", help="copy the result into the committed tiny weights"),
    smoke: bool = typer.Option(False, "--smoke", help=SMOKE_HELP),
):
    """Train the tiny AutoencoderKLCogVideoX; resumes from OUT/checkpoint when present."""
    from v2l.pretrain.jobs import train_vae

    card = train_vae(out, minutes, max_steps, seed, pool_clips, decoder_minutes, threads, install, smoke)
    typer.echo(f"vae: {card['metrics']} -> {card['location']}")


@pretrain_app.command("backbone")
def backbone(
    out: Path = typer.Option(Path("runs/pretrain/backbone"), "--out", help="run directory"),
    vae: Optional[Path] = typer.Option(None, "--vae", help="trained VAE folder (default: the committed one)"),
    minutes: Optional[float] = minutes_option(None, help="wall-time budget in minutes" + CFG),
    max_steps: Optional[int] = max_steps_option(),
    seed: Optional[int] = seed_option(None, help="random seed" + CFG),
    cache_clips: Optional[int] = count_option(None, "--cache-clips", help="training clips in the latent cache" + CFG),
    threads: Optional[int] = threads_option(None, help="torch threads" + CFG),
    install: bool = typer.Option(False, "--install", help="copy transformer + text encoder into the committed weights"),
    smoke: bool = typer.Option(False, "--smoke", help=SMOKE_HELP),
):
    """Train the tiny I2V transformer on the frozen VAE; resumes from OUT/checkpoint when present."""
    from v2l.pretrain.jobs import train_backbone

    typer.echo(json_line(train_backbone(out, vae, minutes, max_steps, seed, cache_clips, threads, install, smoke)))


@pretrain_app.command("judge")
def judge(
    out: Path = typer.Option(Path("runs/pretrain/judge"), "--out", help="run directory"),
    vae: Optional[Path] = typer.Option(None, "--vae", help="trained VAE folder (default: the committed one)"),
    minutes: Optional[float] = minutes_option(None, help="wall-time budget in minutes" + CFG),
    max_steps: Optional[int] = max_steps_option(),
    seed: Optional[int] = seed_option(None, help="random seed" + CFG),
    pool_clips: Optional[int] = count_option(None, "--pool-clips", help="labelled training clips held in memory" + CFG),
    threads: Optional[int] = threads_option(None, help="torch threads" + CFG),
    install: bool = typer.Option(False, "--install", help="copy the judge into the committed weights"),
    smoke: bool = typer.Option(False, "--smoke", help=SMOKE_HELP),
):
    """Train the semantic judge (all semantics) and measure it on held-out content."""
    from v2l.pretrain.jobs import train_judge

    typer.echo(json_line(train_judge(out, vae, minutes, max_steps, seed, threads, install, smoke, pool_clips)))


def json_line(card: dict) -> str:
    import json

    return json.dumps({"name": card["name"], "metrics": card["metrics"], "location": card["location"]})


@pretrain_app.command("clip")
def clip(
    out: Path = typer.Option(Path("runs/pretrain/clip"), "--out", help="run directory"),
    minutes: Optional[float] = minutes_option(None, help="wall-time budget in minutes" + CFG),
    max_steps: Optional[int] = max_steps_option(),
    seed: Optional[int] = seed_option(None, help="random seed" + CFG),
    dev_procedural: Optional[int] = count_option(
        None,
        "--dev-procedural",
        lo=0,
        hi=10_000,
        help="set this many training procedural items aside to pick the best "
        "weights by dev retrieval (0: keep the last weights)",
    ),
    extra_procedural: Optional[int] = count_option(
        None,
        "--extra-procedural",
        lo=0,
        help="procedural scenes drawn for CLIP training only (captions equal to a held-out caption are dropped)",
    ),
    pool_clips: Optional[int] = count_option(
        None, "--pool-clips", help="rendered training frames held in memory" + CFG
    ),
    threads: Optional[int] = threads_option(None, help="torch threads" + CFG),
    install: bool = typer.Option(False, "--install", help="copy the CLIP into the committed weights"),
    smoke: bool = typer.Option(False, "--smoke", help=SMOKE_HELP),
):
    """Train the tiny open_clip model contrastively on frames and content captions."""
    from v2l.pretrain.jobs import train_clip

    typer.echo(
        json_line(
            train_clip(
                out, minutes, max_steps, seed, dev_procedural, extra_procedural, pool_clips, threads, install, smoke
            )
        )
    )


@pretrain_app.command("lit-clip")
def lit_clip(
    out: Path = typer.Option(Path("runs/pretrain/lit_clip"), "--out", help="run directory"),
    seed: int = seed_option(),
    pool_frames: int = count_option(2048, "--pool-frames", help="training frames through the frozen towers"),
    steps: int = count_option(1000, "--steps", help="head training steps (one frame per caption each)"),
    image_size: int = count_option(
        128, "--image-size", lo=32, hi=512, help="frames are resized to this for EfficientNet-Lite0"
    ),
    dev_procedural: int = count_option(
        0, "--dev-procedural", lo=0, hi=10_000, help="set this many training procedural items aside as a dev set"
    ),
    threads: int = threads_option(2),
    install: bool = typer.Option(False, "--install", help="copy the heads into v2l/assets/lit_clip"),
):
    """Train the LiT CLIP's projection heads on frozen pretrained towers (EfficientNet-Lite0, all-MiniLM-L6-v2)."""
    from v2l.pretrain.jobs import train_lit_clip

    typer.echo(json_line(train_lit_clip(out, seed, pool_frames, steps, image_size, dev_procedural, threads, install)))
