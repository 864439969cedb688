"""Is a new evaluation a regression against the registered champion? (The evaluation check's ERROR case.)

A regression is a headline number whose 95 % interval lies wholly below the champion's: seen true-reference judge
accuracy, or zero-shot true-reference accuracy. A smaller mean inside the intervals is not one (the registry gate
then keeps the champion and calls the new version a challenger)."""

from __future__ import annotations


def regressions(new: dict, champion: dict | None) -> list[str]:
    """One line per headline number that regressed; `new` and `champion` are `v2l.registry.headline_tags`-style
    dicts (the champion's are its model version's tags, strings)."""
    if not champion:
        return []
    out = []
    for key in ("seen_true_ref", "zeroshot_true_ref"):
        high, low = new.get(f"{key}_ci_high"), champion.get(f"{key}_ci_low")
        if high is None or low is None:
            continue
        if float(high) < float(low):
            out.append(f"{key}: interval top {float(high):.3f} is below the champion's bottom {float(low):.3f}")
    return out


def champion_tags(client, name: str, exclude_run: str | None = None) -> dict | None:
    """The current champion's tags, or None (no champion, or the champion is the run `exclude_run` itself)."""
    from mlflow.exceptions import MlflowException

    try:
        mv = client.get_model_version_by_alias(name, "champion")
    except MlflowException:
        return None
    if exclude_run is not None and mv.tags.get("run_id") == exclude_run:
        return None
    return {**mv.tags, "version": mv.version}
