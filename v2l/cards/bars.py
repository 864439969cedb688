"""The tiny world's bars as numbers: does a model's measured card meet them (Dagster's asset checks ask this)."""

from __future__ import annotations

# model -> [(metric, comparison, bound)]; the wording of each lives in v2l.pretrain.install.BARS (the cards).
BARS = {
    "vae": [("psnr_db", ">=", 25.0)],
    "judge": [("heldout_content_accuracy", ">=", 0.90)],
    "clip": [("heldout_caption_to_frame_top1", ">=", 0.80)],
    "base_world": [
        ("first_frame_psnr_gap_db", "<=", 0.5),
        ("judge_mean_max_probability", ">=", 0.5),
        ("missing_training_semantics", "none", None),
    ],
}


def meets_bars(model: str, metrics: dict) -> tuple[bool, dict]:
    """(all bars met, {metric: {"measured", "bar", "met"}})."""
    report = {}
    for key, op, bound in BARS[model]:
        value = metrics.get(key)
        if value is None:
            met = False
        elif op == ">=":
            met = value >= bound
        elif op == "<=":
            met = value <= bound
        else:  # "none": an empty list
            met = len(value) == 0
        report[key] = {"measured": value, "bar": f"{op} {bound}" if bound is not None else op, "met": met}
    return all(r["met"] for r in report.values()), report
