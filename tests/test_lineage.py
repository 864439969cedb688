"""Lineage: each model's card names the upstream files it was trained on, and a chain whose upstream changed
is refused (by `v2l models`, on resume and on install) instead of silently mixing latent spaces."""

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from tests.test_train_job import SMOKE
from v2l.backbones.tiny import TINY_WEIGHTS
from v2l.cards.card import write_card
from v2l.cards.lineage import files_of, stale_upstream, upstream_files
from v2l.errors import V2LError
from v2l.model import default_model
from v2l.training.config import load_config
from v2l.training.trainer import run_training


def _model(root, name, value, built_on=None):
    d = root / name
    d.mkdir(parents=True, exist_ok=True)
    (d / "config.json").write_text("{}")
    save_file({"w": torch.full((4,), float(value))}, str(d / "w.safetensors"))
    return write_card(d, f"tiny {name}", f"v2l pretrain {name}", "world-x", 0, 1.0, {}, built_on=built_on)


def test_a_retrained_vae_makes_the_transformer_stale(tmp_path):
    _model(tmp_path, "vae", 1)
    _model(tmp_path, "text_encoder", 2)
    card = _model(tmp_path, "transformer", 3, built_on=upstream_files(tmp_path, "transformer"))
    assert set(card["built_on"]) == {"vae", "text_encoder"}
    assert stale_upstream(tmp_path, "transformer", card) is None
    assert "Built on" in (tmp_path / "transformer" / "README.md").read_text()

    _model(tmp_path, "vae", 4)  # a new VAE, correctly carded: every file matches its own card
    why = stale_upstream(tmp_path, "transformer", card)
    assert why and "another vae" in why and "v2l pretrain transformer" in why and "text_encoder" not in why
    # Cards from before lineage carry no built_on: unknown, not refused.
    assert stale_upstream(tmp_path, "transformer", {k: v for k, v in card.items() if k != "built_on"}) is None


def test_files_of_hashes_an_uncarded_folder_like_its_card_would(tmp_path):
    card = _model(tmp_path, "vae", 1)
    carded = files_of(tmp_path / "vae")
    (tmp_path / "vae" / "card.json").unlink()
    assert files_of(tmp_path / "vae") == carded == card["files"]


def test_training_records_its_backbone_and_refuses_another(tmp_path):
    from v2l.training.release import install_hypernet

    run = run_training(load_config(SMOKE, run_dir=str(tmp_path / "run"), max_steps=2))
    checkpoint = Path(run["checkpoint"])
    state_path = checkpoint / "state.json"
    state = json.loads(state_path.read_text())
    assert state["backbone"] == upstream_files(TINY_WEIGHTS, "hypernet")
    assert set(state["backbone"]) == {"vae", "transformer", "text_encoder"}

    card = install_hypernet(checkpoint, {}, target=tmp_path / "hypernet")
    assert card["built_on"] == state["backbone"]
    assert stale_upstream(TINY_WEIGHTS, "hypernet", card) is None
    assert not default_model(checkpoint).random_weights  # on its own backbone it loads

    # The same checkpoint as if trained on another VAE: resuming and installing it are both refused.
    state["backbone"]["vae"] = {"diffusion_pytorch_model.safetensors": "0" * 64}
    state_path.write_text(json.dumps(state))
    with pytest.raises(V2LError, match="another backbone.*vae"):
        run_training(load_config(SMOKE, run_dir=str(tmp_path / "run"), max_steps=4))
    with pytest.raises(V2LError, match="another backbone.*vae"):
        install_hypernet(checkpoint, {}, target=tmp_path / "other")
    assert not (tmp_path / "other").exists(), "nothing installed on refusal"
    # Predicting or evaluating with it on the committed backbone is refused too (every job loads through here).
    with pytest.raises(V2LError, match="another backbone \\(vae differ\\).*--backbone-weights"):
        default_model(checkpoint)


def test_new_per_condition_loras_refresh_the_hypernetwork_comparison_only_on_its_own_chain(tmp_path):
    from v2l.cards.card import update_metrics
    from v2l.evaluation.hypernet_bars import refresh_committed_comparison

    for i, name in enumerate(("vae", "text_encoder", "transformer")):
        _model(tmp_path, name, i)
    hyper = _model(tmp_path, "hypernet", 9, built_on=upstream_files(tmp_path, "hypernet"))
    update_metrics(tmp_path / "hypernet", {"seen_semantics": {"per_semantic_true_ref": {"melt": 1.0, "pan_left": 0.0}}})
    lora = {"per_semantic": {"melt": {"judge_accuracy": 0.5}}, "mean_judge_accuracy": 0.5, "mean_train_seconds": 300.0}
    update_metrics(tmp_path / "transformer", lora, section="per_condition_lora")

    assert refresh_committed_comparison(tmp_path)
    card = json.loads((tmp_path / "hypernet" / "card.json").read_text())
    assert card["metrics"]["per_condition_lora"] == {
        "mean_judge_accuracy": 0.5,
        "mean_train_seconds": 300.0,
        "per_semantic": {"melt": 0.5},
        "hypernet_true_ref_same_semantics": {"melt": 1.0},
    }
    assert card["files"] == hyper["files"], "only metrics change"
    _model(tmp_path, "transformer", 7)  # a retrained transformer: the hypernetwork's numbers are not about it
    assert not refresh_committed_comparison(tmp_path)
