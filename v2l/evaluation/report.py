"""An evaluation's files: `summary.json`, `samples.jsonl`, `report.md`, a contact sheet per semantic, a bar chart
per metric with its intervals (matplotlib), and a few sample mp4s. Every file is written atomically."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import torch

from v2l.atomic import atomic_path, write_text_atomic
from v2l.evaluation.arms import ARMS
from v2l.video.io import write_video
from v2l.video.pixels import video_to_frames

# How each metric is shown: label and a format for one number.
METRIC_LABELS = {
    "judge_acc": ("judge accuracy", "{:.1%}"),
    "judge_agreement": ("judge agreement", "{:.1%}"),
    "psnr": ("PSNR dB", "{:.2f}"),
    "ssim": ("SSIM", "{:.3f}"),
    "clip_t": ("CLIP-T", "{:.3f}"),
    "clip_i_adjacent": ("CLIP-I adjacent", "{:.3f}"),
    "clip_i_first": ("CLIP-I to first", "{:.3f}"),
    "motion_sim": ("motion sim.", "{:.2f}"),
    "flow_epe": ("flow EPE px", "{:.2f}"),
    "seconds_per_video": ("s / video", "{:.3f}"),
    "seconds_per_lora": ("s / LoRA", "{:.4f}"),
}
SHEET_SCALE = 2  # contact sheets show frames at twice their size


def json_safe(value):
    """NaN (a metric that does not apply) and infinities become null: strict JSON."""
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


def write_summary(path: Path, summary: dict) -> None:
    write_text_atomic(path, json.dumps(json_safe(summary), indent=2, allow_nan=False) + "\n")


def fmt(entry: dict, key: str) -> str:
    mean, (lo, hi) = entry["mean"], entry["ci95"]
    if mean is None or (isinstance(mean, float) and math.isnan(mean)):
        return "-"
    lo, hi = (mean if b is None else b for b in (lo, hi))
    f = METRIC_LABELS[key][1]
    if f.endswith("%}"):  # percentages: the interval in points
        return f"{mean:.1%} [{lo * 100:.0f}, {hi * 100:.0f}]"
    return f"{f.format(mean)} [{f.format(lo)}, {f.format(hi)}]"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)] + ["| " + " | ".join(r) + " |" for r in rows]


def split_tables(name: str, split: dict) -> list[str]:
    """The markdown of one split: every metric per arm, the guard, judge accuracy per family and per semantic."""
    arms = list(split["arms"])
    if not arms:
        return []
    metrics = [
        m
        for m in METRIC_LABELS
        if m in split["arms"][arms[0]]["all"] and any(split["arms"][a]["all"][m]["n"] for a in arms)
    ]
    lines = [
        f"### {name} ({split['targets']} targets"
        + (f", {len(split['semantics'])} semantics, chance {split['chance']:.1%})" if split.get("chance") else ")"),
        "",
    ]
    lines += _table(
        ["arm"] + [METRIC_LABELS[m][0] for m in metrics],
        [[a] + [fmt(split["arms"][a]["all"][m], m) for m in metrics] for a in arms],
    )
    for key, g in split.get("guard", {}).items():
        lo, hi = g["ci95"]
        if key == "wrong_ref_follows_its_semantic":
            lines.append(
                f"\nWrong-reference generations judged as the wrong reference's semantic: "
                f"{g['mean']:.1%} [{lo * 100:.0f}, {hi * 100:.0f}]"
            )
            continue
        value = (
            f"{g['mean'] * 100:+.1f} pts [{lo * 100:.0f}, {hi * 100:.0f}]"
            if "judge" in key
            else f"{g['mean']:+.3f} [{lo:.3f}, {hi:.3f}]"
        )
        lines.append(
            f"\nGuard, {key.replace('true_minus_wrong_', '').replace('_', ' ')} (true minus wrong reference, paired): {value}"
        )
    key = "judge_acc" if name != "real" else "judge_agreement"
    families = sorted({f for a in arms for f in split["arms"][a].get("per_family", {})})
    if families:
        lines += ["", f"{METRIC_LABELS[key][0]} per family:", ""]
        lines += _table(
            ["arm"] + families,
            [
                [a]
                + [
                    fmt(split["arms"][a]["per_family"][f][key], key) if f in split["arms"][a]["per_family"] else "-"
                    for f in families
                ]
                for a in arms
            ],
        )
    lines += family_metric_tables(split, metrics)
    semantics = split.get("semantics") or []
    if semantics:
        lines += ["", f"{METRIC_LABELS[key][0]} per semantic:", ""]
        lines += _table(
            ["semantic"] + arms,
            [
                [s]
                + [
                    f"{split['arms'][a]['per_semantic'][s][key]['mean']:.0%}"
                    if s in split["arms"][a]["per_semantic"]
                    else "-"
                    for a in arms
                ]
                for s in semantics
            ],
        )
    return lines + [""]


def family_metric_tables(split: dict, metrics: list[str], heading: str = "") -> list[str]:
    """Per family, every metric of every arm with its interval (one table per family)."""
    arms = list(split["arms"])
    families = sorted({f for a in arms for f in split["arms"][a].get("per_family", {})})
    lines = []
    for family in families:
        rows = [
            [a] + [fmt(split["arms"][a]["per_family"][family][m], m) for m in metrics]
            for a in arms
            if family in split["arms"][a].get("per_family", {})
        ]
        n = max(
            split["arms"][a]["per_family"][family][metrics[0]]["n"]
            for a in arms
            if family in split["arms"][a].get("per_family", {})
        )
        lines += ["", f"{heading}family `{family}` ({n} targets), every metric:", ""]
        lines += _table(["arm"] + [METRIC_LABELS[m][0] for m in metrics], rows)
    return lines


def report_markdown(summary: dict) -> str:
    cfg = summary["config"]
    lines = [
        f"# Evaluation of {summary['model']['source']}",
        "",
        f"hypernetwork version `{summary['model']['version'][:16]}`, {cfg['steps']} sampling steps, seed "
        f"{cfg['seed']}, CLIP scorer `{summary['clip_scorer']}`, {summary['throughput']['videos']} videos in "
        f"{summary['throughput']['generation_wall_seconds']:.0f} s ({cfg['workers'] or 'in-process'} worker(s)). "
        f"Brackets: bootstrap 95 % intervals.",
        "",
    ]
    for name, split in summary["splits"].items():
        lines += split_tables(name, split)
    if summary.get("reference_clip_judge_accuracy"):
        lines.append(
            "Judge accuracy on the true reference clips themselves: "
            + ", ".join(f"{k} {v:.1%}" for k, v in summary["reference_clip_judge_accuracy"].items())
        )
    if summary.get("registry"):
        r = summary["registry"]
        lines += ["", f"Registry: version {r['version']} of `{r['name']}` -> **{r['alias']}** ({r['reason']})"]
    return "\n".join(lines) + "\n"


def _strip(video: torch.Tensor) -> np.ndarray:
    frames = video_to_frames(video)  # (F, H, W, 3)
    strip = np.concatenate(list(frames), axis=1)
    return strip.repeat(SHEET_SCALE, 0).repeat(SHEET_SCALE, 1)


def contact_sheet(path: Path, rows: list[tuple[str, torch.Tensor]]) -> Path:
    """One row of frames per (label, clip)."""
    from PIL import Image, ImageDraw

    strips = [(label, _strip(v)) for label, v in rows]
    label_w, h = 130, strips[0][1].shape[0]
    width = label_w + max(s.shape[1] for _, s in strips)
    sheet = Image.new("RGB", (width, h * len(strips)), "white")
    draw = ImageDraw.Draw(sheet)
    for k, (label, strip) in enumerate(strips):
        sheet.paste(Image.fromarray(strip), (label_w, k * h))
        draw.text((4, k * h + h // 2 - 6), label, fill="black")
    with atomic_path(path, suffix=".png") as tmp:
        sheet.save(tmp, format="PNG")
    return path


def bar_chart(path: Path, metric: str, splits: dict) -> Path | None:
    """Mean per arm and split, with the 95 % interval as error bars."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    series = {
        name: {a: e["all"][metric] for a, e in s["arms"].items() if metric in e["all"] and e["all"][metric]["n"]}
        for name, s in splits.items()
    }
    series = {k: v for k, v in series.items() if v}
    if not series:
        return None
    arms = [a for a in ARMS if any(a in v for v in series.values())]
    fig, ax = plt.subplots(figsize=(1.6 + 1.3 * len(arms) * len(series) / 2, 3.2))
    width = 0.8 / len(series)
    for k, (name, values) in enumerate(series.items()):
        xs = [i + k * width for i, a in enumerate(arms) if a in values]
        means = [values[a]["mean"] for a in arms if a in values]
        err = np.array(
            [
                [values[a]["mean"] - values[a]["ci95"][0], values[a]["ci95"][1] - values[a]["mean"]]
                for a in arms
                if a in values
            ]
        ).T.clip(min=0)
        ax.bar(xs, means, width, yerr=err, capsize=3, label=name)
    ax.set_xticks([i + width * (len(series) - 1) / 2 for i in range(len(arms))], arms, rotation=15)
    ax.set_ylabel(METRIC_LABELS[metric][0])
    ax.legend(fontsize=8)
    fig.tight_layout()
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    plt.close(fig)
    return path


def write_outputs(cfg, summary: dict, rows: list[dict], plans, results) -> dict[str, list[Path]]:
    """Everything under cfg.out; returns the figure and video paths (for MLflow)."""

    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    write_text_atomic(out / "samples.jsonl", "".join(json.dumps(json_safe(r), allow_nan=False) + "\n" for r in rows))
    write_summary(out / "summary.json", summary)
    write_text_atomic(out / "report.md", report_markdown(summary))
    videos = {(r.split, r.arm, i): v for r in results for i, v in zip(r.indices, r.videos)}
    files: dict[str, list[Path]] = {"contact_sheets": [], "charts": [], "videos": []}
    for plan in plans:
        arms = [a for a in ARMS if any(k[0] == plan.split and k[1] == a for k in videos)]
        keys = plan.semantics or [None] * len(plan.targets)
        for n, key in enumerate(dict.fromkeys(keys) if plan.semantics else range(len(plan.targets))):
            t = next(t for t in plan.targets if t.semantic == key) if plan.semantics else plan.targets[key]
            rows_ = [("reference", t.true_ref)] + ([("ground truth", t.truth)] if t.truth is not None else [])
            rows_ += [(a, videos[(plan.split, a, t.index)]) for a in arms if (plan.split, a, t.index) in videos]
            name = key if plan.semantics else Path(t.true_ref_source).stem
            files["contact_sheets"].append(contact_sheet(out / "contact_sheets" / plan.split / f"{name}.png", rows_))
        for arm in arms:
            for t in plan.targets[: cfg.sample_videos]:
                if (plan.split, arm, t.index) in videos:
                    path = out / "videos" / plan.split / f"{t.index:03d}_{arm}.mp4"
                    files["videos"].append(write_video(path, video_to_frames(videos[(plan.split, arm, t.index)])))
    for metric in METRIC_LABELS:
        chart = bar_chart(out / "charts" / f"{metric}.png", metric, summary["splits"])
        if chart is not None:
            files["charts"].append(chart)
    return files
