"""The tiny world in Dagster: a real in-process materialize of every pretraining asset (smoke sizes) writes a
card per model, measures the base world of the backbone it trained, and runs each bar as an asset check."""

import json

import dagster as dg
import pytest

from v2l.backbones.tiny import TINY_WEIGHTS
from v2l.errors import V2LError

pytestmark = pytest.mark.integration


def test_definitions_hold_the_tiny_world_assets_checks_and_job():
    from orchestration.definitions import defs

    keys = {k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()}
    assert {"tiny_vae", "tiny_judge", "tiny_clip", "tiny_backbone", "tiny_base_world"} <= keys
    defs.resolve_job_def("tiny_world_job")  # raises if the job is missing
    group = dg.AssetSelection.groups("tiny_world").resolve(defs.resolve_asset_graph())
    assert {k.to_user_string() for k in group} == {
        "tiny_vae",
        "tiny_judge",
        "tiny_clip",
        "tiny_backbone",
        "tiny_base_world",
    }


def test_materialize_the_tiny_world_at_smoke_size(tmp_path):
    from orchestration.pretrain_assets import PRETRAIN_ASSETS
    from orchestration.pretrain_checks import PRETRAIN_CHECKS
    from orchestration.resources import PretrainSettings
    from v2l.cards.bars import meets_bars
    from v2l.cards.lineage import files_of

    committed = {p: p.read_bytes() for p in sorted(TINY_WEIGHTS.rglob("card.json"))}
    settings = PretrainSettings(out_root=str(tmp_path), threads=1, smoke=True, world_per_semantic=1, world_steps=2)
    result = dg.materialize([*PRETRAIN_ASSETS, *PRETRAIN_CHECKS], resources={"pretrain": settings})
    assert result.success

    cards = {m: json.loads((tmp_path / m / "model" / m / "card.json").read_text()) for m in ("vae", "judge", "clip")}
    cards["transformer"] = json.loads((tmp_path / "backbone" / "model" / "transformer" / "card.json").read_text())
    for name, card in cards.items():
        assert card["command"].startswith("v2l pretrain") and card["command"].endswith("--smoke"), name
    # The backbone trained on the VAE this run made (not the committed one), and says so in its card.
    assert cards["transformer"]["built_on"]["vae"] == files_of(tmp_path / "vae" / "model" / "vae")
    assert f"--vae {tmp_path / 'vae' / 'model' / 'vae'}" in cards["transformer"]["command"]
    world = cards["transformer"]["metrics"]["base_world"]
    from v2l.world.sampler import semantics_for

    # One base generation per semantic the backbone pretrains on (training + tier 1), and the cards say which.
    assert world["samples"] == len(semantics_for("backbone")) and "missing_training_semantics" in world
    assert cards["transformer"]["semantics_seen"] == semantics_for("backbone")
    assert cards["judge"]["semantics_seen"] == semantics_for("all")

    # Each check reports what its card says about the bar (smoke models are not expected to meet them).
    evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert set(evaluations) == {"vae_psnr_bar", "judge_accuracy_bar", "clip_retrieval_bar", "base_world_bars"}
    expected = {
        "vae_psnr_bar": meets_bars("vae", cards["vae"]["metrics"])[0],
        "judge_accuracy_bar": meets_bars("judge", cards["judge"]["metrics"])[0],
        "clip_retrieval_bar": meets_bars("clip", cards["clip"]["metrics"])[0],
        "base_world_bars": meets_bars("base_world", world)[0],
    }
    assert {k: e.passed for k, e in evaluations.items()} == expected
    assert not expected["vae_psnr_bar"], "two VAE steps cannot reach 25 dB: the check must say so"
    assert {p: p.read_bytes() for p in sorted(TINY_WEIGHTS.rglob("card.json"))} == committed, (
        "install=False leaves the committed models alone"
    )


def test_bars_compare_as_the_issue_says():
    from v2l.cards.bars import meets_bars

    assert meets_bars("vae", {"psnr_db": 25.0})[0] and not meets_bars("vae", {"psnr_db": 24.99})[0]
    ok, report = meets_bars(
        "base_world",
        {"first_frame_psnr_gap_db": 0.2, "judge_mean_max_probability": 0.7, "missing_training_semantics": ["shake"]},
    )
    assert not ok and not report["missing_training_semantics"]["met"] and report["first_frame_psnr_gap_db"]["met"]
    assert not meets_bars("clip", {})[0], "a metric that was never measured does not pass"


def test_a_smoke_model_is_never_installed(tmp_path):
    from v2l.pretrain.jobs import train_clip

    with pytest.raises(V2LError, match="never installed"):
        train_clip(tmp_path / "clip", install=True, smoke=True)
    assert not (tmp_path / "clip").exists()
