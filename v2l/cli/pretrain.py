"""`v2l pretrain ...`: build the tiny world's own models (each resumable from its checkpoints)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer


SMOKE_HELP = "2 steps on tiny pools: checks the pipeline runs, trains nothing useful (never installed)"


def _say(msg: str) -> None:
    typer.echo(msg, err=True)


pretrain_app = typer.Typer(add_completion=False, no_args_is_help=True,
                           help="Pretrain the tiny world: VAE, I2V backbone, judge, CLIP.")


@pretrain_app.command("vae")
def vae(out: Path = typer.Option(Path("runs/pretrain/vae"), "--out", help="run directory (checkpoints, model/)"),
        minutes: float = typer.Option(50.0, "--minutes", help="wall-time budget for the training loop"),
        max_steps: Optional[int] = typer.Option(None, "--max-steps"),
        seed: int = typer.Option(0, "--seed"),
        pool_clips: int = typer.Option(3072, "--pool-clips", help="rendered training clips held in memory"),
        decoder_minutes: float = typer.Option(0.0, "--decoder-minutes",
                                              help="then fine-tune the decoder alone this long (0: skip)"),
        threads: int = typer.Option(2, "--threads", help="torch threads (1 leaves a core for other work)"),
        install: bool = typer.Option(False, "--install", help="copy the result into the committed tiny weights"),
        smoke: bool = typer.Option(False, "--smoke", help=SMOKE_HELP)):
    """Train the tiny AutoencoderKLCogVideoX; resumes from OUT/checkpoint when present."""
    from v2l.pretrain.jobs import train_vae

    card = train_vae(out, minutes, max_steps, seed, pool_clips, decoder_minutes, threads, install, smoke, say=_say)
    typer.echo(f"vae: {card['metrics']} -> {card['location']}")


@pretrain_app.command("backbone")
def backbone(out: Path = typer.Option(Path("runs/pretrain/backbone"), "--out", help="run directory"),
             vae: Optional[Path] = typer.Option(None, "--vae", help="trained VAE folder (default: the committed one)"),
             minutes: float = typer.Option(45.0, "--minutes"),
             max_steps: Optional[int] = typer.Option(None, "--max-steps"),
             seed: int = typer.Option(0, "--seed"),
             cache_clips: int = typer.Option(6144, "--cache-clips", help="training clips in the latent cache"),
             threads: int = typer.Option(2, "--threads"),
             install: bool = typer.Option(False, "--install", help="copy transformer + text encoder into the committed weights"),
             smoke: bool = typer.Option(False, "--smoke", help=SMOKE_HELP)):
    """Train the tiny I2V transformer on the frozen VAE; resumes from OUT/checkpoint when present."""
    from v2l.pretrain.jobs import train_backbone

    typer.echo(json_line(train_backbone(out, vae, minutes, max_steps, seed, cache_clips, threads, install, smoke,
                                        say=_say)))


@pretrain_app.command("judge")
def judge(out: Path = typer.Option(Path("runs/pretrain/judge"), "--out", help="run directory"),
          vae: Optional[Path] = typer.Option(None, "--vae", help="trained VAE folder (default: the committed one)"),
          minutes: float = typer.Option(12.0, "--minutes"),
          max_steps: Optional[int] = typer.Option(None, "--max-steps"),
          seed: int = typer.Option(0, "--seed"),
          threads: int = typer.Option(2, "--threads"),
          install: bool = typer.Option(False, "--install", help="copy the judge into the committed weights"),
          smoke: bool = typer.Option(False, "--smoke", help=SMOKE_HELP)):
    """Train the semantic judge (all semantics) and measure it on held-out content."""
    from v2l.pretrain.jobs import train_judge

    typer.echo(json_line(train_judge(out, vae, minutes, max_steps, seed, threads, install, smoke, say=_say)))


def json_line(card: dict) -> str:
    import json

    return json.dumps({"name": card["name"], "metrics": card["metrics"], "location": card["location"]})


@pretrain_app.command("clip")
def clip(out: Path = typer.Option(Path("runs/pretrain/clip"), "--out", help="run directory"),
         minutes: float = typer.Option(15.0, "--minutes"),
         max_steps: Optional[int] = typer.Option(None, "--max-steps"),
         seed: int = typer.Option(0, "--seed"),
         dev_procedural: int = typer.Option(0, "--dev-procedural",
                                            help="set this many training procedural items aside to pick the best "
                                                 "weights by dev retrieval (0: keep the last weights)"),
         extra_procedural: int = typer.Option(0, "--extra-procedural",
                                              help="procedural scenes drawn for CLIP training only (captions equal "
                                                   "to a held-out caption are dropped)"),
         pool_clips: int = typer.Option(4096, "--pool-clips", help="rendered training frames held in memory"),
         threads: int = typer.Option(2, "--threads"),
         install: bool = typer.Option(False, "--install", help="copy the CLIP into the committed weights"),
         smoke: bool = typer.Option(False, "--smoke", help=SMOKE_HELP)):
    """Train the tiny open_clip model contrastively on frames and content captions."""
    from v2l.pretrain.jobs import train_clip

    typer.echo(json_line(train_clip(out, minutes, max_steps, seed, dev_procedural, extra_procedural, pool_clips,
                                    threads, install, smoke, say=_say)))
