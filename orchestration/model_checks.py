"""Asset checks on hypernet_evaluation: the release bar (WARN below it) and the champion (ERROR on a regression)."""

import dagster as dg

from orchestration.model_assets import hypernet_evaluation
from orchestration.resources import MlflowResource
from v2l.evaluation.hypernet_bars import release_metrics


@dg.asset_check(
    asset=hypernet_evaluation,
    description="Release bar: seen true-reference judge accuracy >= 0.40 and "
    "true minus wrong reference >= 0.25 (WARN below it).",
)
def evaluation_release_bar(hypernet_evaluation: dict) -> dg.AssetCheckResult:
    m = release_metrics(hypernet_evaluation)
    passed = m["bar_true_ref_at_least_0.40"] and m["bar_true_minus_wrong_at_least_0.25"]
    seen = m["seen_semantics"]
    return dg.AssetCheckResult(
        passed=bool(passed),
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "judge_acc_true_ref": seen["judge_acc_true_ref"],
            "true_minus_wrong": seen["true_minus_wrong"],
            "bar_true_ref": 0.40,
            "bar_true_minus_wrong": 0.25,
        },
    )


@dg.asset_check(
    asset=hypernet_evaluation,
    description="No headline number worse than the registered champion's "
    "beyond the 95 % intervals (ERROR on a regression).",
)
def no_regression_against_champion(hypernet_evaluation: dict, mlflow: MlflowResource) -> dg.AssetCheckResult:
    from v2l.registry import (  # lazy: pulls in torch via v2l.registry; keeps orchestration.definitions light
        MODEL_NAME,
        champion_tags,
        headline_tags,
        regressions,
    )

    champion = champion_tags(mlflow.client(), MODEL_NAME, exclude_run=hypernet_evaluation["mlflow"]["run_id"])
    found = regressions(headline_tags(hypernet_evaluation), champion)
    return dg.AssetCheckResult(
        passed=not found,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "champion_version": str(champion["version"]) if champion else "none",
            "regressions": dg.MetadataValue.json(found),
        },
    )


MODEL_CHECKS = [evaluation_release_bar, no_regression_against_champion]
