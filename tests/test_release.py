"""Issue 5's release path: the linear probe, the staged recipe's stage-3 rate, the release measurement's
reference pairs, and installing a training checkpoint as the committed hypernetwork with its card."""

import json

import pytest
import torch

from tests.test_train_job import SMOKE
from v2l.errors import V2LError
from v2l.training.config import load_config
from v2l.training.trainer import run_training


def test_linear_probe_separates_training_clips_and_reports_heldout(tmp_path):
    from v2l.training.probe import probe_reference_features

    cfg = load_config(SMOKE, run_dir=str(tmp_path), data={"clips_per_semantic": 2})
    result = probe_reference_features(cfg)
    assert result["semantics"] == 24 and result["train_clips"] == 48 and result["heldout_clips"] == 48
    # 3,456 latent numbers against 48 clips: a linear fit must separate the training set.
    assert result["latents"]["train_accuracy"] == 1.0
    for view in ("latents", "pooled"):
        assert 0.0 <= result[view]["heldout_content_accuracy"] <= 1.0


def test_staged_finetune_lr_applies_to_stage_three_only(tmp_path):
    staged = {"codes_steps": 1, "distill_steps": 1, "finetune_lr": 1e-5}
    run = run_training(load_config(SMOKE, run_dir=str(tmp_path), recipe="staged", max_steps=4, staged=staged))
    lrs = {h["step"]: h["lr"] for h in run["history"]}  # the rate set for the step after each one
    assert lrs[1] == pytest.approx(1e-3)  # after stage 1 comes stage 2: the config's rate
    assert lrs[2] == pytest.approx(1e-5) and lrs[3] == pytest.approx(1e-5)


def test_release_references_are_true_and_wrong_on_heldout_content():
    from v2l.backbones.tiny import TINY_WEIGHTS
    from v2l.evaluation.arms import synthetic_targets
    from v2l.evaluation.judge import VideoJudge
    from v2l.world.sampler import WorldConfig, semantics_for

    targets = synthetic_targets(WorldConfig(), "seen", semantics_for("train"), 2, seed=1)
    assert all(t.wrong_semantic != t.semantic for t in targets) and len(targets) == 48
    assert all(t.true_ref_source.split(" on ")[1] != t.content_id for t in targets), "references on other content"
    judge = VideoJudge.load(TINY_WEIGHTS / "judge")
    true = judge.probabilities(torch.stack([t.true_ref for t in targets])).argmax(-1)
    wrong = judge.probabilities(torch.stack([t.wrong_ref for t in targets])).argmax(-1)
    wanted = torch.tensor([judge.classes.index(t.semantic) for t in targets])
    true_acc, wrong_acc = (true == wanted).float().mean(), (wrong == wanted).float().mean()
    assert true_acc >= 0.75 and wrong_acc <= 0.1, (true_acc, wrong_acc)


def test_install_a_training_checkpoint_as_the_committed_hypernet(tmp_path):
    from v2l.cards.card import verify
    from v2l.model import Video2LoRA
    from v2l.training.release import install_hypernet

    run = run_training(load_config(SMOKE, run_dir=str(tmp_path / "run"), max_steps=2))
    target = tmp_path / "hypernet"
    card = install_hypernet(run["checkpoint"], {"seen_semantics": {"judge_acc_true_ref": 0.5}}, target=target)
    assert card["command"] == "v2l train --config tests/configs/tiny-smoke.yaml"
    assert card["data_version"].startswith("world-") and card["metrics"]["steps"] == 2
    assert not (target / "optimizer.pt").exists(), "the committed model carries no optimizer state"
    assert verify(target)["files"]
    installed = Video2LoRA.from_checkpoint(target)
    assert installed.version() == Video2LoRA.from_checkpoint(run["checkpoint"]).version()
    weights = target / "model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(V2LError, match="corrupted"):
        verify(target)
    assert json.loads((target / "card.json").read_text())["bars"]


def test_world_pairs_encoded_once_train_and_resume_exactly(tmp_path):
    from v2l.backbones import get_spec
    from v2l.training.pairs import pair_source

    cfg = load_config(
        SMOKE, run_dir=str(tmp_path / "a"), max_steps=4, data={"latent_cache": True, "clips_per_semantic": 1}
    )
    batch = pair_source(cfg, "train", 0, 1, backbone=get_spec("tiny").default()).batch(0, 0, 2, 0)
    assert batch.target is None and batch.target_latents.shape[1:] == (8, 3, 12, 12) and batch.text is not None
    straight = {h["step"]: h["loss"] for h in run_training(cfg)["history"]}
    half = cfg.model_copy(update={"run_dir": tmp_path / "b"})
    run_training(half.model_copy(update={"max_steps": 2}))
    resumed = run_training(half)["history"]
    assert [h["loss"] for h in resumed] == [straight[3], straight[4]]
