"""The tiny world's pretraining jobs as plain functions: config -> train (resumable) -> card (-> install).

`v2l pretrain ...` and the Dagster `tiny_world` assets both call these, so a card's `command` reproduces the
run whichever started it. Each returns the card plus `location`: the model folder (the committed one when
installed, else the run's own `OUT/model/<name>`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

Say = Callable[[str], None]

# `smoke`: two steps on tiny pools and evaluation sets. It checks that a pipeline runs end to end (tests, the
# Dagster UI); its metrics mean nothing, and its card's command says `--smoke`.
SMOKE = {"vae": {"batch": 2, "pool_clips": 8, "eval_clips": 4},
         "backbone": {"batch": 2, "cache_clips": 8},
         "judge": {"batch": 4, "pool_clips": 32, "eval_per_semantic": 1},
         "clip": {"batch": 8, "pool_clips": 64, "eval_frames_per_item": 1}}
SMOKE_STEPS = 2


def _sized(cfg, name: str, smoke: bool, install: bool):
    if not smoke:
        return cfg
    if install:
        from v2l.errors import V2LError

        raise V2LError(f"a --smoke {name} is two steps on tiny pools: it is never installed; drop --smoke or --install")
    return cfg.model_copy(update={**SMOKE[name], "loop": cfg.loop.model_copy(
        update={"max_steps": SMOKE_STEPS, "warmup_steps": 1, "log_every": 1})})


def _checked_vae(vae: str | Path | None) -> Path:
    """The VAE folder to train on: `vae`, else the committed one."""
    from v2l.backbones.tiny import TINY_WEIGHTS
    from v2l.errors import V2LError

    path = Path(vae) if vae is not None else TINY_WEIGHTS / "vae"
    if not (path / "config.json").is_file():
        raise V2LError(f"no trained VAE at {path}; run `v2l pretrain vae --install` first or pass --vae DIR")
    return path


def train_vae(out: str | Path, minutes: float = 50.0, max_steps: int | None = None, seed: int = 0,
              pool_clips: int = 3072, decoder_minutes: float = 0.0, threads: int = 2, install: bool = False,
              smoke: bool = False, say: Say = print) -> dict:
    from v2l.pretrain.install import install_model
    from v2l.pretrain.loop import LoopConfig
    from v2l.pretrain.vae import VAEPretrainConfig, pretrain_vae

    out = Path(out)
    cfg = VAEPretrainConfig(loop=LoopConfig(minutes=minutes, max_steps=max_steps, lr=1e-3, warmup_steps=100,
                                            seed=seed, threads=threads), pool_clips=pool_clips,
                            decoder_loop=LoopConfig(minutes=decoder_minutes, lr=3e-4, warmup_steps=50, seed=seed,
                                                    threads=threads) if decoder_minutes > 0 else None)
    cfg = _sized(cfg, "vae", smoke, install)
    result = pretrain_vae(out, cfg, say=say)
    # Threads decide how many steps fit the time budget, so they are part of the command.
    command = (f"v2l pretrain vae --out {out} --minutes {minutes} --seed {seed} --pool-clips {pool_clips} "
               f"--threads {threads}")
    if decoder_minutes > 0:
        command += f" --decoder-minutes {decoder_minutes}"
    command += " --smoke" if smoke else ""
    return install_model("vae", out / "model" / "vae", result, command, seed, install)


def train_backbone(out: str | Path, vae: str | Path | None = None, minutes: float = 45.0,
                   max_steps: int | None = None, seed: int = 0, cache_clips: int = 6144, threads: int = 2,
                   install: bool = False, smoke: bool = False, say: Say = print) -> dict:
    from v2l.pretrain.backbone import BackbonePretrainConfig, pretrain_backbone
    from v2l.pretrain.install import install_backbone
    from v2l.pretrain.loop import LoopConfig

    out, vae_dir = Path(out), _checked_vae(vae)
    cfg = BackbonePretrainConfig(loop=LoopConfig(minutes=minutes, max_steps=max_steps, lr=1e-3, warmup_steps=200,
                                                 seed=seed, threads=threads), cache_clips=cache_clips)
    cfg = _sized(cfg, "backbone", smoke, install)
    result = pretrain_backbone(out, vae_dir, cfg, say=say)
    command = (f"v2l pretrain backbone --out {out} --minutes {minutes} --seed {seed} --cache-clips {cache_clips} "
               f"--threads {threads}" + (f" --vae {vae}" if vae else ""))
    command += " --smoke" if smoke else ""
    return install_backbone(Path(result["model_dir"]), result, command, seed, install)


def train_judge(out: str | Path, vae: str | Path | None = None, minutes: float = 12.0,
                max_steps: int | None = None, seed: int = 0, threads: int = 2, install: bool = False,
                smoke: bool = False, say: Say = print) -> dict:
    from v2l.pretrain.install import install_model
    from v2l.pretrain.judge import JudgePretrainConfig, pretrain_judge
    from v2l.pretrain.loop import LoopConfig

    out = Path(out)
    cfg = JudgePretrainConfig(loop=LoopConfig(minutes=minutes, max_steps=max_steps, lr=2e-3, warmup_steps=50,
                                              weight_decay=0.01, seed=seed, threads=threads))
    cfg = _sized(cfg, "judge", smoke, install)
    result = pretrain_judge(out, _checked_vae(vae), cfg, say=say)
    command = (f"v2l pretrain judge --out {out} --minutes {minutes} --seed {seed} --threads {threads}"
               + (f" --vae {vae}" if vae else ""))
    command += " --smoke" if smoke else ""
    return install_model("judge", out / "model" / "judge", result, command, seed, install)


def train_clip(out: str | Path, minutes: float = 15.0, max_steps: int | None = None, seed: int = 0,
               dev_procedural: int = 0, extra_procedural: int = 0, pool_clips: int = 4096, threads: int = 2,
               install: bool = False, smoke: bool = False, say: Say = print) -> dict:
    from v2l.pretrain.clip import ClipPretrainConfig, pretrain_clip
    from v2l.pretrain.install import install_model
    from v2l.pretrain.loop import LoopConfig

    out = Path(out)
    cfg = ClipPretrainConfig(loop=LoopConfig(minutes=minutes, max_steps=max_steps, lr=1e-3, warmup_steps=100,
                                             weight_decay=0.1, seed=seed, threads=threads),
                             dev_procedural=dev_procedural, extra_procedural=extra_procedural, pool_clips=pool_clips)
    cfg = _sized(cfg, "clip", smoke, install)
    result = pretrain_clip(out, cfg, say=say)
    command = f"v2l pretrain clip --out {out} --minutes {minutes} --seed {seed} --threads {threads}"
    for flag, value, default in (("--dev-procedural", dev_procedural, 0), ("--extra-procedural", extra_procedural, 0),
                                 ("--pool-clips", pool_clips, 4096)):
        if value != default:
            command += f" {flag} {value}"
    command += " --smoke" if smoke else ""
    return install_model("clip", out / "model" / "clip", result, command, seed, install)


def train_lit_clip(out: str | Path, seed: int = 0, pool_frames: int = 2048, steps: int = 1000,
                   image_size: int = 128, dev_procedural: int = 0, threads: int = 2, install: bool = False,
                   say: Say = print) -> dict:
    """Train the LiT CLIP heads; the card names the frozen towers (packages, versions, sha256 of their weights)."""
    from importlib.metadata import version

    from v2l.evaluation.lit_clip import LIT_WEIGHTS, TOWER_PACKAGES, tower_files
    from v2l.pretrain.cards import write_card
    from v2l.pretrain.install import BARS, semantics_seen, swap_in
    from v2l.pretrain.lit_clip import LitClipConfig, pretrain_lit_clip
    from v2l.video.io import file_sha256

    out = Path(out)
    cfg = LitClipConfig(seed=seed, pool_frames=pool_frames, steps=steps, image_size=image_size,
                        dev_procedural=dev_procedural, threads=threads)
    result = pretrain_lit_clip(out, cfg, say=say)
    command = (f"v2l pretrain lit-clip --out {out} --seed {seed} --pool-frames {pool_frames} --steps {steps} "
               f"--image-size {image_size} --threads {threads}")
    command += f" --dev-procedural {dev_procedural}" if dev_procedural else ""
    packages = [p for pair in TOWER_PACKAGES.values() for p in pair] + ["open_clip_torch", "torch"]
    towers = {f"{name} ({'image' if name.endswith('.pth') else 'text'} tower, frozen)": {name: file_sha256(path)}
              for name, path in tower_files().items()}
    notes = ("Towers (frozen, not committed; installed from their packages): EfficientNet-Lite0 ImageNet-1k "
             "(image), all-MiniLM-L6-v2 (text). Package versions: "
             + ", ".join(f"{p}=={version(p)}" for p in packages)
             + ". Heads: linear projections into a shared space, trained with open_clip.loss.ClipLoss on "
               "frames of the training content (items whose caption equals a held-out caption dropped).")
    model_dir = out / "model" / "lit_clip"
    card = write_card(model_dir, "LiT CLIP heads (EfficientNet-Lite0 + all-MiniLM-L6-v2, frozen)", command,
                      result["data_version"], seed, result["minutes"], result["metrics"], BARS["clip"], notes,
                      built_on=towers, semantics_seen=semantics_seen("clip"))
    location = model_dir
    if install:
        swap_in(model_dir, LIT_WEIGHTS)
        location = LIT_WEIGHTS
    return {**card, "location": str(location)}
