"""The tiny world's pretraining jobs as plain functions: config -> train (resumable) -> card (-> install).

`v2l pretrain ...` and the Dagster `tiny_world` assets both call these, so a card's `command` reproduces the
run whichever started it. Each returns the card plus `location`: the model folder (the committed one when
installed, else the run's own `OUT/model/<name>`).
"""

from __future__ import annotations

from pathlib import Path

from v2l.backbones.tiny import TINY_WEIGHTS
from v2l.cards.card import write_card
from v2l.errors import V2LError
from v2l.evaluation.lit_clip import LIT_WEIGHTS, TOWER_PACKAGES, tower_files
from v2l.pretrain.backbone import BackbonePretrainConfig, pretrain_backbone
from v2l.pretrain.clip import ClipPretrainConfig, pretrain_clip
from v2l.pretrain.install import BARS, install_backbone, install_model, semantics_seen, swap_in
from v2l.pretrain.judge import JudgePretrainConfig, pretrain_judge
from v2l.pretrain.lit_clip import LitClipConfig, pretrain_lit_clip
from v2l.pretrain.vae import VAEPretrainConfig, pretrain_vae
from v2l.training.loop import LoopConfig
from v2l.video.io import file_sha256

# `smoke`: two steps on tiny pools and evaluation sets. It checks that a pipeline runs end to end (tests, the
# Dagster UI); its metrics mean nothing, and its card's command says `--smoke`.
SMOKE = {
    "vae": {"batch": 2, "pool_clips": 8, "eval_clips": 4},
    "backbone": {"batch": 2, "cache_clips": 8},
    "judge": {"batch": 4, "pool_clips": 32, "eval_per_semantic": 1},
    "clip": {"batch": 8, "pool_clips": 64, "eval_frames_per_item": 1},
}
SMOKE_STEPS = 2


def _sized(cfg, name: str, smoke: bool, install: bool):
    if not smoke:
        return cfg
    if install:
        raise V2LError(f"a --smoke {name} is two steps on tiny pools: it is never installed; drop --smoke or --install")
    return cfg.model_copy(
        update={
            **SMOKE[name],
            "loop": cfg.loop.model_copy(update={"max_steps": SMOKE_STEPS, "warmup_steps": 1, "log_every": 1}),
        }
    )


def _budget(loop: LoopConfig) -> str:
    """The budget flags of a card's command: a step-budgeted run is rerun with its steps, not only its minutes."""
    return f"--minutes {loop.minutes}" + (f" --max-steps {loop.max_steps}" if loop.max_steps else "")


def _checked_vae(vae: str | Path | None) -> Path:
    """The VAE folder to train on: `vae`, else the committed one."""

    path = Path(vae) if vae is not None else TINY_WEIGHTS / "vae"
    if not (path / "config.json").is_file():
        raise V2LError(f"no trained VAE at {path}; run `v2l pretrain vae --install` first or pass --vae DIR")
    return path


def _configured(model, loop: dict, **fields):
    """`model`'s defaults with the given (not None) fields on top: each default lives in the config model only, so
    `v2l pretrain`, the Dagster assets and a direct call train the same thing."""
    base = model()
    loop = {**base.loop.model_dump(), **{k: v for k, v in loop.items() if v is not None}}
    return model.model_validate(
        {**base.model_dump(), **{k: v for k, v in fields.items() if v is not None}, "loop": loop}
    )


def train_vae(
    out: str | Path,
    minutes: float | None = None,
    max_steps: int | None = None,
    seed: int | None = None,
    pool_clips: int | None = None,
    decoder_minutes: float | None = None,
    threads: int | None = None,
    install: bool = False,
    smoke: bool = False,
) -> dict:
    """None takes VAEPretrainConfig's default; `decoder_minutes` > 0 adds the decoder-only phase."""

    out = Path(out)
    cfg = _configured(
        VAEPretrainConfig, dict(minutes=minutes, max_steps=max_steps, seed=seed, threads=threads), pool_clips=pool_clips
    )
    loop = cfg.loop
    if decoder_minutes:
        cfg = cfg.model_copy(
            update={
                "decoder_loop": LoopConfig(
                    minutes=decoder_minutes, lr=3e-4, warmup_steps=50, seed=loop.seed, threads=loop.threads
                )
            }
        )
    result = pretrain_vae(out, _sized(cfg, "vae", smoke, install))
    # Threads decide how many steps fit the time budget, so they are part of the command.
    command = (
        f"v2l pretrain vae --out {out} {_budget(loop)} --seed {loop.seed} "
        f"--pool-clips {cfg.pool_clips} --threads {loop.threads}"
    )
    if decoder_minutes:
        command += f" --decoder-minutes {decoder_minutes}"
    command += " --smoke" if smoke else ""
    return install_model("vae", out / "model" / "vae", result, command, loop.seed, install)


def train_backbone(
    out: str | Path,
    vae: str | Path | None = None,
    minutes: float | None = None,
    max_steps: int | None = None,
    seed: int | None = None,
    cache_clips: int | None = None,
    threads: int | None = None,
    install: bool = False,
    smoke: bool = False,
) -> dict:
    """None takes BackbonePretrainConfig's default."""

    out, vae_dir = Path(out), _checked_vae(vae)
    cfg = _configured(
        BackbonePretrainConfig,
        dict(minutes=minutes, max_steps=max_steps, seed=seed, threads=threads),
        cache_clips=cache_clips,
    )
    loop = cfg.loop
    result = pretrain_backbone(out, vae_dir, _sized(cfg, "backbone", smoke, install))
    command = (
        f"v2l pretrain backbone --out {out} {_budget(loop)} --seed {loop.seed} "
        f"--cache-clips {cfg.cache_clips} --threads {loop.threads}" + (f" --vae {vae}" if vae else "")
    )
    command += " --smoke" if smoke else ""
    return install_backbone(Path(result["model_dir"]), result, command, loop.seed, install)


def train_judge(
    out: str | Path,
    vae: str | Path | None = None,
    minutes: float | None = None,
    max_steps: int | None = None,
    seed: int | None = None,
    threads: int | None = None,
    install: bool = False,
    smoke: bool = False,
    pool_clips: int | None = None,
) -> dict:
    """None takes JudgePretrainConfig's default."""

    out = Path(out)
    cfg = _configured(
        JudgePretrainConfig,
        dict(minutes=minutes, max_steps=max_steps, seed=seed, threads=threads),
        pool_clips=pool_clips,
    )
    loop = cfg.loop
    result = pretrain_judge(out, _checked_vae(vae), _sized(cfg, "judge", smoke, install))
    command = (
        f"v2l pretrain judge --out {out} {_budget(loop)} --seed {loop.seed} --pool-clips {cfg.pool_clips} "
        f"--threads {loop.threads}" + (f" --vae {vae}" if vae else "")
    )
    command += " --smoke" if smoke else ""
    return install_model("judge", out / "model" / "judge", result, command, loop.seed, install)


def train_clip(
    out: str | Path,
    minutes: float | None = None,
    max_steps: int | None = None,
    seed: int | None = None,
    dev_procedural: int | None = None,
    extra_procedural: int | None = None,
    pool_clips: int | None = None,
    threads: int | None = None,
    install: bool = False,
    smoke: bool = False,
) -> dict:
    """None takes ClipPretrainConfig's default."""

    out = Path(out)
    cfg = _configured(
        ClipPretrainConfig,
        dict(minutes=minutes, max_steps=max_steps, seed=seed, threads=threads),
        dev_procedural=dev_procedural,
        extra_procedural=extra_procedural,
        pool_clips=pool_clips,
    )
    loop, default = cfg.loop, ClipPretrainConfig()
    result = pretrain_clip(out, _sized(cfg, "clip", smoke, install))
    command = f"v2l pretrain clip --out {out} {_budget(loop)} --seed {loop.seed} --threads {loop.threads}"
    for field in ("dev_procedural", "extra_procedural", "pool_clips"):  # named only when not the default
        if getattr(cfg, field) != getattr(default, field):
            command += f" --{field.replace('_', '-')} {getattr(cfg, field)}"
    command += " --smoke" if smoke else ""
    return install_model("clip", out / "model" / "clip", result, command, loop.seed, install)


def train_lit_clip(
    out: str | Path,
    seed: int = 0,
    pool_frames: int = 2048,
    steps: int = 1000,
    image_size: int = 128,
    dev_procedural: int = 0,
    threads: int = 2,
    install: bool = False,
) -> dict:
    """Train the LiT CLIP heads; the card names the frozen towers (packages, versions, sha256 of their weights)."""
    from importlib.metadata import version

    out = Path(out)
    cfg = LitClipConfig(
        seed=seed,
        pool_frames=pool_frames,
        steps=steps,
        image_size=image_size,
        dev_procedural=dev_procedural,
        threads=threads,
    )
    result = pretrain_lit_clip(out, cfg)
    command = (
        f"v2l pretrain lit-clip --out {out} --seed {seed} --pool-frames {pool_frames} --steps {steps} "
        f"--image-size {image_size} --threads {threads}"
    )
    command += f" --dev-procedural {dev_procedural}" if dev_procedural else ""
    packages = [p for pair in TOWER_PACKAGES.values() for p in pair] + ["open_clip_torch", "torch"]
    towers = {
        f"{name} ({'image' if name.endswith('.pth') else 'text'} tower, frozen)": {name: file_sha256(path)}
        for name, path in tower_files().items()
    }
    notes = (
        "Towers (frozen, not committed; installed from their packages): EfficientNet-Lite0 ImageNet-1k "
        "(image), all-MiniLM-L6-v2 (text). Package versions: "
        + ", ".join(f"{p}=={version(p)}" for p in packages)
        + ". Heads: linear projections into a shared space, trained with open_clip.loss.ClipLoss on "
        "frames of the training content (items whose caption equals a held-out caption dropped)."
    )
    model_dir = out / "model" / "lit_clip"
    card = write_card(
        model_dir,
        "LiT CLIP heads (EfficientNet-Lite0 + all-MiniLM-L6-v2, frozen)",
        command,
        result["data_version"],
        seed,
        result["minutes"],
        result["metrics"],
        BARS["clip"],
        notes,
        built_on=towers,
        semantics_seen=semantics_seen("clip"),
    )
    location = model_dir
    if install:
        swap_in(model_dir, LIT_WEIGHTS)
        location = LIT_WEIGHTS
    return {**card, "location": str(location)}
