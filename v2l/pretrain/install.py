"""Write a pretrained model's card and, on request, copy it into the committed tiny weights (v2l/assets/tiny)."""

from __future__ import annotations

import shutil
from pathlib import Path

from v2l.atomic import swap_dir
from v2l.backbones.tiny import TINY_WEIGHTS
from v2l.cards.card import write_card
from v2l.cards.lineage import files_of
from v2l.world.sampler import semantics_for

BARS = {
    "vae": {"psnr_db": ">= 25 dB on held-out content"},
    "judge": {"heldout_content_accuracy": ">= 0.90 over all semantics"},
    "clip": {"heldout_caption_to_frame_top1": ">= 0.80"},
    "backbone": {
        "first_frame_psnr_gap_db": "<= 0.5 (VAE reconstruction of the image minus generated first frame)",
        "judge_mean_max_probability": ">= 0.5 on base generations",
        "missing_training_semantics": "none",
    },
}


# Which semantics each pretraining job renders (v2l.world.sampler.semantics_for); the CLIPs see frames of all.
SEMANTICS_SEEN = {"vae": "train", "backbone": "backbone", "judge": "all", "clip": "all"}


def semantics_seen(name: str) -> list[str]:
    return semantics_for(SEMANTICS_SEEN[name])


def install_model(name: str, model_dir: Path, result: dict, command: str, seed: int, install: bool) -> dict:
    card = write_card(
        model_dir,
        f"tiny {name}",
        command,
        result["data_version"],
        seed,
        result["minutes"],
        result["metrics"],
        BARS.get(name),
        semantics_seen=semantics_seen(name),
    )
    location = model_dir
    if install:
        location = TINY_WEIGHTS / name
        swap_in(model_dir, location)
    return {**card, "location": str(location)}


def swap_in(source: Path, target: Path) -> None:
    """Copy a folder next to `target`, then swap it in whole: the committed folder is never half-copied."""
    staging = target.with_name(f".{target.name}.staging")
    shutil.rmtree(staging, ignore_errors=True)
    shutil.copytree(source, staging)
    swap_dir(staging, target)


def install_backbone(model_dir: Path, result: dict, command: str, seed: int, install: bool) -> dict:
    """The backbone run saves transformer + text encoder (+ tokenizer, scheduler); each part gets its own card."""

    metrics = {k: v for k, v in result.items() if k in ("steps", "final_loss")}
    write_card(
        model_dir / "text_encoder",
        "tiny frozen T5 text encoder",
        command,
        result["data_version"],
        seed,
        result["minutes"],
        metrics,
    )
    # The transformer only fits the VAE latents and text embeddings it was trained on: its card names both.
    built_on = {"vae": files_of(result["vae_dir"]), "text_encoder": files_of(model_dir / "text_encoder")}
    card = write_card(
        model_dir / "transformer",
        "tiny I2V transformer",
        command,
        result["data_version"],
        seed,
        result["minutes"],
        metrics,
        BARS["backbone"],
        built_on=built_on,
        semantics_seen=semantics_seen("backbone"),
    )
    location = model_dir
    if install:
        for part in ("transformer", "text_encoder", "tokenizer", "scheduler"):
            swap_in(model_dir / part, TINY_WEIGHTS / part)
        location = TINY_WEIGHTS
    return {**card, "location": str(location)}
