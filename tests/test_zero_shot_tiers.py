"""The zero-shot split in two tiers: tier 1 known to the backbone only, tier 2 seen by no model but the judge.
What each stage trains on, what the evaluation's splits hold, and how a judge that predates tier 2 is handled."""

import json

import pytest

from v2l.data.semantics import DEFAULT_TIER1, DEFAULT_TIER2, semantic_tiers
from v2l.errors import V2LError
from v2l.world.sampler import semantics_for


def test_each_stage_sees_its_tiers():
    tiers = semantic_tiers()
    assert set(semantics_for("tier1")) == set(DEFAULT_TIER1) and set(semantics_for("tier2")) == set(DEFAULT_TIER2)
    backbone, train = set(semantics_for("backbone")), set(semantics_for("train"))
    assert backbone == train | set(DEFAULT_TIER1) and not backbone & set(DEFAULT_TIER2)
    assert not train & (set(DEFAULT_TIER1) | set(DEFAULT_TIER2))  # the hypernetwork's pairs never hold either tier
    assert set(semantics_for("all")) == set(tiers) and set(semantics_for("heldout")) == set(
        DEFAULT_TIER1 + DEFAULT_TIER2
    )


def test_the_backbone_card_names_train_and_tier_1(tmp_path):
    from v2l.pretrain.jobs import train_backbone

    card = train_backbone(tmp_path / "bb", smoke=True)
    seen = json.loads((tmp_path / "bb" / "model" / "transformer" / "card.json").read_text())["semantics_seen"]
    assert card["semantics_seen"] == seen == semantics_for("backbone")
    assert "ripple" in seen and "wipe" not in seen


def test_evaluation_splits_are_the_tiers():
    from v2l.evaluation.arms import split_semantics

    assert split_semantics("seen") == semantics_for("train")
    assert split_semantics("zeroshot") == semantics_for("tier1")
    assert split_semantics("novel") == semantics_for("tier2")


def test_a_judge_without_tier_2_refuses_the_novel_split_by_name_and_all_leaves_it_out():
    from v2l.evaluation.job import EvalConfig, unjudgeable

    old_judge = [n for n in semantics_for("all") if n not in DEFAULT_TIER2]
    with pytest.raises(V2LError, match=r"split novel: the judge does not know .*v2l pretrain judge"):
        unjudgeable(EvalConfig(split="seen,novel"), old_judge)
    assert unjudgeable(EvalConfig(split="all"), old_judge) == {"novel": semantics_for("tier2")}
    assert unjudgeable(EvalConfig(split="all"), semantics_for("all")) == {}
    assert EvalConfig(split="all").splits() == ["seen", "zeroshot", "novel", "real"]


def test_step_budget_makes_the_schedule_independent_of_machine_speed():
    from v2l.training.loop import LoopConfig, lr_at

    cfg = LoopConfig(minutes=600, max_steps=1000, lr=1e-3, warmup_steps=10)
    # The same step on a fast and a slow machine gets the same rate; the cosine ends at the last step.
    assert lr_at(cfg, 500, 60.0) == lr_at(cfg, 500, 3000.0)
    assert lr_at(cfg, 1000, 60.0) == pytest.approx(cfg.lr * cfg.min_lr_ratio)
    timed = LoopConfig(minutes=10, lr=1e-3, warmup_steps=10)
    assert lr_at(timed, 500, 60.0) > lr_at(timed, 500, 300.0)  # without a step budget wall time decides
