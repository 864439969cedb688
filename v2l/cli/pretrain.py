"""`v2l pretrain ...`: build the tiny world's own models (each resumable from its checkpoints)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

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
        install: bool = typer.Option(False, "--install", help="copy the result into the committed tiny weights")):
    """Train the tiny AutoencoderKLCogVideoX; resumes from OUT/checkpoint when present."""
    from v2l.pretrain.install import install_model
    from v2l.pretrain.loop import LoopConfig
    from v2l.pretrain.vae import VAEPretrainConfig, pretrain_vae

    cfg = VAEPretrainConfig(loop=LoopConfig(minutes=minutes, max_steps=max_steps, lr=1e-3, warmup_steps=100,
                                            seed=seed, threads=threads), pool_clips=pool_clips,
                            decoder_loop=LoopConfig(minutes=decoder_minutes, lr=3e-4, warmup_steps=50, seed=seed,
                                                    threads=threads) if decoder_minutes > 0 else None)
    result = pretrain_vae(out, cfg, say=lambda m: typer.echo(m, err=True))
    command = f"v2l pretrain vae --out {out} --minutes {minutes} --seed {seed} --pool-clips {pool_clips}"
    if decoder_minutes > 0:
        command += f" --decoder-minutes {decoder_minutes}"
    card = install_model("vae", out / "model" / "vae", result, command, seed, install)
    typer.echo(f"vae: {card['metrics']} -> {card['location']}")


def _vae_dir(vae: Optional[Path]) -> Path:
    from v2l.backbones.tiny import TINY_WEIGHTS
    from v2l.errors import V2LError

    path = vae or TINY_WEIGHTS / "vae"
    if not (path / "config.json").is_file():
        raise V2LError(f"no trained VAE at {path}; run `v2l pretrain vae --install` first or pass --vae DIR")
    return path


@pretrain_app.command("backbone")
def backbone(out: Path = typer.Option(Path("runs/pretrain/backbone"), "--out", help="run directory"),
             vae: Optional[Path] = typer.Option(None, "--vae", help="trained VAE folder (default: the committed one)"),
             minutes: float = typer.Option(45.0, "--minutes"),
             max_steps: Optional[int] = typer.Option(None, "--max-steps"),
             seed: int = typer.Option(0, "--seed"),
             cache_clips: int = typer.Option(6144, "--cache-clips", help="training clips in the latent cache"),
             threads: int = typer.Option(2, "--threads"),
             install: bool = typer.Option(False, "--install", help="copy transformer + text encoder into the committed weights")):
    """Train the tiny I2V transformer on the frozen VAE; resumes from OUT/checkpoint when present."""
    from v2l.pretrain.backbone import BackbonePretrainConfig, pretrain_backbone
    from v2l.pretrain.install import install_backbone
    from v2l.pretrain.loop import LoopConfig

    cfg = BackbonePretrainConfig(loop=LoopConfig(minutes=minutes, max_steps=max_steps, lr=1e-3, warmup_steps=200,
                                                 seed=seed, threads=threads), cache_clips=cache_clips)
    result = pretrain_backbone(out, _vae_dir(vae), cfg, say=lambda m: typer.echo(m, err=True))
    command = f"v2l pretrain backbone --out {out} --minutes {minutes} --seed {seed} --cache-clips {cache_clips}"
    typer.echo(json_line(install_backbone(Path(result["model_dir"]), result, command, seed, install)))


@pretrain_app.command("judge")
def judge(out: Path = typer.Option(Path("runs/pretrain/judge"), "--out", help="run directory"),
          vae: Optional[Path] = typer.Option(None, "--vae", help="trained VAE folder (default: the committed one)"),
          minutes: float = typer.Option(12.0, "--minutes"),
          max_steps: Optional[int] = typer.Option(None, "--max-steps"),
          seed: int = typer.Option(0, "--seed"),
          threads: int = typer.Option(2, "--threads"),
          install: bool = typer.Option(False, "--install", help="copy the judge into the committed weights")):
    """Train the semantic judge (all semantics) and measure it on held-out content."""
    from v2l.pretrain.install import install_model
    from v2l.pretrain.judge import JudgePretrainConfig, pretrain_judge
    from v2l.pretrain.loop import LoopConfig

    cfg = JudgePretrainConfig(loop=LoopConfig(minutes=minutes, max_steps=max_steps, lr=2e-3, warmup_steps=50,
                                              weight_decay=0.01, seed=seed, threads=threads))
    result = pretrain_judge(out, _vae_dir(vae), cfg, say=lambda m: typer.echo(m, err=True))
    command = f"v2l pretrain judge --out {out} --minutes {minutes} --seed {seed}"
    typer.echo(json_line(install_model("judge", out / "model" / "judge", result, command, seed, install)))


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
         install: bool = typer.Option(False, "--install", help="copy the CLIP into the committed weights")):
    """Train the tiny open_clip model contrastively on frames and content captions."""
    from v2l.pretrain.clip import ClipPretrainConfig, pretrain_clip
    from v2l.pretrain.install import install_model
    from v2l.pretrain.loop import LoopConfig

    cfg = ClipPretrainConfig(loop=LoopConfig(minutes=minutes, max_steps=max_steps, lr=1e-3, warmup_steps=100,
                                             weight_decay=0.1, seed=seed, threads=threads),
                             dev_procedural=dev_procedural, extra_procedural=extra_procedural, pool_clips=pool_clips)
    result = pretrain_clip(out, cfg, say=lambda m: typer.echo(m, err=True))
    command = f"v2l pretrain clip --out {out} --minutes {minutes} --seed {seed}"
    for flag, value, default in (("--dev-procedural", dev_procedural, 0), ("--extra-procedural", extra_procedural, 0),
                                 ("--pool-clips", pool_clips, 4096)):
        if value != default:
            command += f" {flag} {value}"
    typer.echo(json_line(install_model("clip", out / "model" / "clip", result, command, seed, install)))
