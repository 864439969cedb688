"""The committed tiny hypernetwork: install a training checkpoint into v2l/assets/tiny/hypernet with its card.

`v2l predict` / `v2l generate` load it by default (tiny preset, no --checkpoint); `v2l models` verifies it.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from v2l.atomic import swap_dir, write_text_atomic
from v2l.backbones.tiny import TINY_WEIGHTS
from v2l.cards.card import write_card
from v2l.cards.lineage import differing, upstream_files
from v2l.data.reader import Corpus
from v2l.errors import V2LError
from v2l.model import Video2LoRA
from v2l.shipped import config_command_path
from v2l.training.config import TrainConfig
from v2l.world.sampler import WorldConfig, semantics_for
from v2l.world.version import data_version

HYPERNET_DIR = TINY_WEIGHTS / "hypernet"
BARS = {
    "seen_semantics.judge_acc_true_ref": ">= 0.40 (held-out content, seen semantics)",
    "seen_semantics.true_minus_wrong": ">= 0.25 (true reference minus a reference of another semantic)",
}


def training_provenance(checkpoint: Path) -> dict:
    """Command, data version, seed and training wall time of a training checkpoint."""

    cfg = TrainConfig.model_validate_json((checkpoint / "train_config.json").read_text())
    state = json.loads((checkpoint / "state.json").read_text())
    if cfg.data.corpus is None:
        data = f"{data_version(WorldConfig())}/{cfg.data.clips_per_semantic}-clips-per-semantic"
    else:
        data = f"corpus-{Corpus(cfg.data.corpus).version}"

    seen = list(cfg.staged.semantics) or semantics_for("train")

    return {
        "command": f"v2l train --config {config_command_path(cfg.name)}",
        "data_version": data,
        "semantics_seen": seen,
        "seed": cfg.seed,
        "wall_minutes": state.get("seconds", 0.0) / 60,
        "recipe": cfg.recipe,
        "steps": state["step"],
        "train_config": cfg,
        "backbone": state.get("backbone"),
    }


def trained_on(checkpoint: str | Path) -> dict[str, dict[str, str]]:
    """The backbone files a training checkpoint was trained on; V2LError when they are not the committed ones."""

    committed = upstream_files(TINY_WEIGHTS, "hypernet")
    # Checkpoints from before the backbone fingerprint carry none: they are taken as trained on what is committed.
    built_on = training_provenance(Path(checkpoint))["backbone"] or committed
    if built_on != committed:
        changed = differing(built_on, committed)
        raise V2LError(
            f"{checkpoint} was trained on another backbone ({', '.join(changed)} differ from the "
            f"committed weights under {TINY_WEIGHTS}); install those first or retrain on these"
        )
    return built_on


def install_hypernet(checkpoint: str | Path, metrics: dict, target: Path = HYPERNET_DIR, notes: str = "") -> dict:
    """Copy the model part of a training checkpoint (not its optimizer) into `target`, atomically, with a card
    naming the backbone files it was trained on."""

    checkpoint = Path(checkpoint)
    built_on = trained_on(checkpoint)
    info = training_provenance(checkpoint)
    model = Video2LoRA.from_checkpoint(checkpoint)
    staging = target.with_name(f".{target.name}.staging")
    shutil.rmtree(staging, ignore_errors=True)
    model.save(staging)
    write_text_atomic(staging / "train_config.json", info["train_config"].model_dump_json(indent=2))
    card = write_card(
        staging,
        "tiny hypernetwork",
        info["command"],
        info["data_version"],
        info["seed"],
        info["wall_minutes"],
        {"recipe": info["recipe"], "steps": info["steps"], **metrics},
        BARS,
        notes,
        built_on=built_on,
        semantics_seen=info["semantics_seen"],
    )
    swap_dir(staging, target)
    return card
