"""The champion gate and the regression check on known headline numbers (tags come back from MLflow as strings)."""

from __future__ import annotations

from v2l.registry import gate, regressions

CHAMPION = {"seen_true_ref": "0.40", "seen_true_ref_ci_low": "0.33", "zeroshot_true_ref_ci_low": "0.02"}


def test_regression_only_when_the_whole_interval_is_below_the_champions():
    inside = {"seen_true_ref_ci_high": 0.35, "zeroshot_true_ref_ci_high": 0.03}  # smaller, but overlapping
    below = {"seen_true_ref_ci_high": 0.20, "zeroshot_true_ref_ci_high": 0.01}
    assert regressions(inside, CHAMPION) == []
    found = regressions(below, CHAMPION)
    assert [line.split(":")[0] for line in found] == ["seen_true_ref", "zeroshot_true_ref"]
    assert regressions(below, None) == []


def test_gate_moves_champion_only_on_a_better_seen_number_without_a_zero_shot_regression():
    assert gate({"seen_true_ref": 0.1}, None) == ("champion", "no champion yet")
    assert gate({"seen_true_ref": 0.40, "zeroshot_true_ref_ci_high": 0.5}, CHAMPION)[0] == "challenger"
    assert gate({"seen_true_ref": 0.50, "zeroshot_true_ref_ci_high": 0.01}, CHAMPION)[0] == "challenger"
    assert gate({"seen_true_ref": 0.50, "zeroshot_true_ref_ci_high": 0.05}, CHAMPION)[0] == "champion"
