"""The release bar of the tiny hypernetwork, measured on held-out content only by the evaluation job.

For every target clip (held-out content, known semantic) the same first frame and caption are generated
three times: with a LoRA predicted from a *true* reference (same semantic, other held-out content), with one
from a *wrong* reference (another semantic), and with no LoRA. The judge scores each against the target's
semantic. True minus wrong is the "reference ignored" guard: a hypernetwork that ignores its reference scores
the same on both. Seen semantics carry the bar; held-out semantics (zero-shot) are reported beside it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only: importing this module stays torch-free
    pass

RELEASE_ARMS = ["true_ref", "wrong_ref", "no_lora"]


def release_split(summary: dict, split: str) -> dict:
    """One split of the evaluation in the card's format (judge accuracy per arm, the paired guard, per semantic)."""
    result = summary["splits"][split]
    arms = result["arms"]
    out = {"samples": result["targets"], "semantics": len(result["semantics"])}
    for arm in ("true_ref", "wrong_ref", "no_lora", "semantic_code"):
        if arm in arms:
            out[f"judge_acc_{arm}"] = arms[arm]["all"]["judge_acc"]["mean"]
            out[f"judge_acc_{arm}_ci95"] = arms[arm]["all"]["judge_acc"]["ci95"]
        if arm == "wrong_ref" and "wrong_ref_follows_its_semantic" in result["guard"]:
            out["judge_acc_wrong_ref_vs_its_reference"] = result["guard"]["wrong_ref_follows_its_semantic"]["mean"]
    guard = result["guard"]["true_minus_wrong_judge_acc"]
    out["true_minus_wrong"], out["true_minus_wrong_ci95"] = guard["mean"], guard["ci95"]
    out["chance_uniform_over_split"] = 1 / len(result["semantics"])  # a random semantic of this split
    out["chance_uniform_over_judge"] = 1 / summary["judge_classes"]  # a random semantic of any split
    per = arms["true_ref"]["per_semantic"]
    out["per_semantic_true_ref"] = {n: per[n]["judge_acc"]["mean"] for n in result["semantics"]}
    out["reference_clip_judge_accuracy"] = summary["reference_clip_judge_accuracy"][split]
    out["steps"] = summary["config"]["steps"]
    return out


def measure_hypernet(
    checkpoint=None,
    per_semantic: int = 4,
    zero_shot_per_semantic: int = 8,
    steps: int = 25,
    seed: int = 0,
    codes: bool = False,
    out: str | Path = "runs/evaluate-hypernet",
) -> dict:
    """The release measurement: the evaluation job on the seen and zero-shot splits with the true, wrong and
    no-LoRA arms (and the staged codes' arm with `codes`), in-process, summarised in the card's format."""
    from v2l.evaluation.job import (  # lazy: pulls in torch; this module stays torch-free
        EvalConfig,
        evaluate,
    )

    arms = RELEASE_ARMS + (["semantic_code"] if codes else [])
    cfg = EvalConfig(
        split="seen,zeroshot",
        out=Path(out),
        checkpoint=checkpoint,
        per_semantic=per_semantic,
        zeroshot_per_semantic=zero_shot_per_semantic,
        arms=arms,
        steps=steps,
        seed=seed,
        mlflow=False,
    )
    summary = evaluate(cfg)
    return release_metrics(summary)


def release_metrics(summary: dict) -> dict:
    """The card's metrics from an evaluation summary that holds the seen and zero-shot splits."""
    seen, zero = release_split(summary, "seen"), release_split(summary, "zeroshot")
    return {
        "seen_semantics": seen,
        "zero_shot": zero,
        "bar_true_ref_at_least_0.40": seen["judge_acc_true_ref"] >= 0.40,
        "bar_true_minus_wrong_at_least_0.25": seen["true_minus_wrong"] >= 0.25,
    }


def per_condition_comparison(per_condition: dict, hypernet_per_semantic: dict) -> dict:
    """The old way beside the hypernetwork: per-condition LoRAs' accuracy (a transformer card's
    `per_condition_lora`) and the hypernetwork's true-reference accuracy on the same semantics."""
    per_lora = per_condition.get("per_semantic", {})
    return {
        **{k: per_condition[k] for k in ("mean_judge_accuracy", "mean_train_seconds") if k in per_condition},
        "per_semantic": {n: r["judge_accuracy"] for n, r in per_lora.items()},
        "hypernet_true_ref_same_semantics": {n: hypernet_per_semantic.get(n) for n in per_lora},
    }


def refresh_committed_comparison(root) -> bool:
    """After new per-condition LoRAs: rewrite the committed hypernetwork's comparison from its stored per-semantic
    accuracy (no re-measuring). Only when the hypernetwork was trained on the committed transformer."""
    import json
    from pathlib import Path

    from v2l.cards.card import update_metrics  # lazy: pulls in torch; this module stays torch-free
    from v2l.cards.lineage import stale_upstream  # lazy: pulls in torch; this module stays torch-free

    hyper, transformer = Path(root) / "hypernet" / "card.json", Path(root) / "transformer" / "card.json"
    if not hyper.is_file() or not transformer.is_file():
        return False
    card = json.loads(hyper.read_text())
    seen = card["metrics"].get("seen_semantics", {}).get("per_semantic_true_ref")
    if seen is None or stale_upstream(root, "hypernet", card):
        return False
    per_condition = json.loads(transformer.read_text())["metrics"].get("per_condition_lora", {})
    update_metrics(hyper.parent, per_condition_comparison(per_condition, seen), section="per_condition_lora")
    return True
