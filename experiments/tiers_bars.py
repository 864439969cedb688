"""Issue 17's bars, read from an evaluation's summary.json: `python experiments/tiers_bars.py runs/eval-X/summary.json`.

Prints each bar with the measured number, its bootstrap 95 % interval and met / missed; measures nothing itself
(the evaluation job does), so the README's numbers and this check come from the same file.
"""

from __future__ import annotations

import json
import sys

CODE_FLOOR, CODES_BELOW_ALLOWED = 0.25, 2


def _ci(entry: dict) -> str:
    lo, hi = entry["ci95"]
    return f"{entry['mean']:.1%} [{lo:.0%}, {hi:.0%}]"


def _bar(name: str, measured: str, met: bool) -> None:
    print(f"{'met   ' if met else 'MISSED'} {name}: {measured}")


def check(summary: dict) -> None:
    splits = summary["splits"]
    if "seen" in splits:
        arms = splits["seen"]["arms"]
        true, wrong = arms["true_ref"]["all"]["judge_acc"], arms["wrong_ref"]["all"]["judge_acc"]
        camera = arms["true_ref"]["per_family"]["camera"]["judge_acc"]
        _bar("seen, true reference >= 55 %", _ci(true), true["mean"] >= 0.55)
        _bar("seen camera, true reference >= 40 %", _ci(camera), camera["mean"] >= 0.40)
        _bar("seen, wrong reference <= 10 %", _ci(wrong), wrong["mean"] <= 0.10)
        if "semantic_code" in arms:
            per = arms["semantic_code"]["per_semantic"]
            low = sorted((v["judge_acc"]["mean"], k) for k, v in per.items() if v["judge_acc"]["mean"] < CODE_FLOOR)
            code = arms["semantic_code"]["all"]["judge_acc"]
            codes_camera = arms["semantic_code"]["per_family"]["camera"]["judge_acc"]
            listed = ", ".join(f"{k} {v:.0%}" for v, k in low) or "none"
            _bar(
                f"codes: <= 2 training semantics below 25 % (all {_ci(code)}, camera {_ci(codes_camera)})",
                f"{len(low)} below: {listed}",
                len(low) <= CODES_BELOW_ALLOWED,
            )
    for split, bar in (("zeroshot", True), ("novel", False)):
        if split not in splits:
            continue
        s = splits[split]
        arms, guard = s["arms"], s["guard"]
        true, wrong = arms["true_ref"]["all"], arms["wrong_ref"]["all"]
        diff = guard["true_minus_wrong_judge_acc"]
        label = "tier 1" if bar else "tier 2 (no bar)"
        print(
            f"-- {label}: true {_ci(true['judge_acc'])}, wrong {_ci(wrong['judge_acc'])}, "
            f"no LoRA {_ci(arms['no_lora']['all']['judge_acc'])}; true - wrong {diff['mean'] * 100:+.1f} pts "
            f"[{diff['ci95'][0] * 100:.0f}, {diff['ci95'][1] * 100:.0f}]"
        )
        none = arms["no_lora"]["all"]
        for m in ("psnr", "motion_sim"):
            print(f"   {m}: true {true[m]['mean']:.3f} {true[m]['ci95']}, no LoRA {none[m]['mean']:.3f}")
        if bar:
            _bar("tier 1, true reference >= 25 %", _ci(true["judge_acc"]), true["judge_acc"]["mean"] >= 0.25)
            _bar(
                "tier 1, true - wrong >= 15 pts, interval above 0",
                f"{diff['mean'] * 100:+.1f} pts",
                diff["mean"] >= 0.15 and diff["ci95"][0] > 0,
            )
            for m in ("psnr", "motion_sim"):
                _bar(
                    f"tier 1, {m} of the true arm above no LoRA",
                    f"{true[m]['mean']:.3f} vs {none[m]['mean']:.3f}",
                    true[m]["mean"] > none[m]["mean"],
                )


if __name__ == "__main__":
    for path in sys.argv[1:]:
        print(f"== {path}")
        with open(path) as f:
            check(json.load(f))
