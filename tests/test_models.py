"""The committed tiny-world models: present, matching their cards' sha256, loadable, with metrics."""

import json

import pytest
from typer.testing import CliRunner

from v2l.backbones.tiny import TINY_WEIGHTS
from v2l.cli.main import app


def test_committed_models_match_their_cards():
    result = CliRunner().invoke(app, ["models", "--json"])
    assert result.exit_code == 0, result.output
    rows = {r["model"]: r for r in json.loads(result.stdout)}
    assert {"vae", "judge", "clip", "hypernet"} <= set(rows), "the committed world lost a model"
    for name, row in rows.items():
        assert row["ok"], row["error"]
        assert row["metrics"] and row["command"].startswith("v2l train" if name == "hypernet" else "v2l pretrain")
        assert all(len(h) == 64 for h in row["files"].values())
    # The chain is one: the transformer and hypernetwork name the upstream files they were trained on (and
    # `ok` above says those are the committed ones).
    assert set(rows["transformer"]["built_on"]) == {"vae", "text_encoder"}
    assert set(rows["hypernet"]["built_on"]) == {"vae", "transformer", "text_encoder"}


def test_committed_models_load(tiny_spec):
    from v2l.evaluation.clip_model import TinyClip
    from v2l.evaluation.judge import VideoJudge

    assert "vae" in tiny_spec.default().source
    judge = VideoJudge.load(TINY_WEIGHTS / "judge")
    assert len(judge.classes) == 30
    clip = TinyClip.load(TINY_WEIGHTS / "clip")
    assert clip.encode_text(["a red car"]).shape == (1, clip.cfg["embed_dim"])


@pytest.mark.integration
def test_committed_hypernet_is_the_default_and_reports_its_bar():
    from v2l.model import default_model

    model = default_model()
    assert not model.random_weights and model.source.endswith("hypernet")
    card = json.loads((TINY_WEIGHTS / "hypernet" / "card.json").read_text())
    seen = card["metrics"]["seen_semantics"]
    for key in ("judge_acc_true_ref", "judge_acc_wrong_ref", "judge_acc_no_lora"):
        assert 0 <= seen[key] <= 1, key
    assert seen["true_minus_wrong"] == pytest.approx(seen["judge_acc_true_ref"] - seen["judge_acc_wrong_ref"])
    assert seen["judge_acc_true_ref"] > seen["judge_acc_wrong_ref"], "the committed model reads its reference"
    assert "zero_shot" in card["metrics"] and card["metrics"]["per_condition_lora"]["mean_judge_accuracy"] > 0


@pytest.mark.integration
def test_evaluate_judge_measures_through_the_committed_vae():
    card_before = (TINY_WEIGHTS / "judge" / "card.json").read_bytes()
    result = CliRunner().invoke(app, ["evaluate", "judge", "--per-semantic", "1", "--no-write"])
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.stdout)
    assert 0 <= metrics["heldout_content_vae_reconstruction_accuracy"] <= 1
    assert 0 <= metrics["heldout_content_accuracy"] <= 1 and metrics["chance"] == 1 / 30
    vae_files = json.loads((TINY_WEIGHTS / "vae" / "card.json").read_text())["files"]
    assert metrics["reconstruction_vae_sha256"] == vae_files
    assert (TINY_WEIGHTS / "judge" / "card.json").read_bytes() == card_before, "--no-write leaves the card alone"


def test_committed_weights_fit_the_size_budget():
    """Issue 4: the committed safetensors stay within 40 MB in total."""
    total = sum(p.stat().st_size for p in TINY_WEIGHTS.rglob("*.safetensors"))
    assert 0 < total <= 40_000_000, f"{total / 1e6:.1f} MB of committed weights"
