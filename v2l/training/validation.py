"""Validation during training: judge accuracy on fixed val references with the true reference and with a
reference of another semantic (the "reference ignored" guard), for seen and held-out semantics, plus a
contact sheet. Measuring true-versus-wrong accuracy, not the loss, is what shows the LoRA is steering.
"""

from __future__ import annotations

import random
from pathlib import Path

import torch

from v2l.backbones.tiny import TINY_WEIGHTS
from v2l.evaluation.judge import VideoJudge
from v2l.inference.generate import generate
from v2l.saved_model import MODEL_FILE
from v2l.training.pairs import pair_source
from v2l.video.io import write_png
from v2l.video.pixels import to_float, to_uint8


def fixed_pairs(source, n: int, seed: int):
    """n targets, each with a true reference and a reference of another semantic (different content)."""
    rng = random.Random(seed)
    picks = rng.sample(range(len(source.targets)), min(n, len(source.targets)))
    out = []
    for i in picks:
        tgt = source.targets[i]
        true = source.reference_for(tgt, None, rng)
        others = [c for c in source.references if c.semantic != tgt.semantic and c.content_id != tgt.content_id]
        out.append((tgt, true, rng.choice(others) if others else true))
    return out


def contact_sheet(path: Path, rows: list[list[torch.Tensor]]) -> Path:
    """rows of (3, F, H, W) clips in [-1, 1] -> one PNG: each clip shown as first, middle and last frame."""

    tiles = []
    for row in rows:
        frames = []
        for clip in row:
            f = clip.shape[1]
            frames += [clip[:, 0], clip[:, f // 2], clip[:, -1]]
        tiles.append(torch.cat(frames, dim=2))
    sheet = to_uint8(torch.cat(tiles, dim=1))
    return write_png(path, sheet.permute(1, 2, 0).numpy())


@torch.no_grad()
def validate(model, cfg, step: int) -> tuple[dict, Path | None]:
    judge_dir = TINY_WEIGHTS / "judge"
    if not (judge_dir / MODEL_FILE).is_file():
        raise FileNotFoundError(f"no committed judge at {judge_dir}")
    judge = VideoJudge.load(judge_dir)
    model.hypernet.eval()
    metrics, sheet_rows = {}, []
    for split in (cfg.data.val_split, "heldout"):
        try:
            source = pair_source(cfg, split, 0, 1)
        except Exception:  # a corpus without this split
            continue
        pairs = fixed_pairs(source, cfg.val_samples, cfg.seed + 99)
        tgts = to_float(torch.stack([t.frames for t, _, _ in pairs]))
        images, captions = tgts[:, :, 0], [t.caption for t, _, _ in pairs]
        wanted = torch.tensor(
            [judge.classes.index(t.semantic) if t.semantic in judge.classes else -1 for t, _, _ in pairs]
        )
        results = {}
        for which, k in (("true", 1), ("wrong", 2)):
            refs = to_float(torch.stack([p[k].frames for p in pairs]))
            A, B = model.predict_factors(refs)
            videos = generate(model, images, captions, A, B, steps=cfg.val_steps, seed=cfg.seed)
            results[which] = videos
            pred = judge.probabilities(videos).argmax(-1)
            metrics[f"val_{split}_judge_acc_{which}_ref"] = float((pred == wanted).float().mean())
        metrics[f"val_{split}_true_minus_wrong"] = (
            metrics[f"val_{split}_judge_acc_true_ref"] - metrics[f"val_{split}_judge_acc_wrong_ref"]
        )
        for i, (tgt, true, _) in enumerate(pairs[:4]):
            sheet_rows.append([to_float(true.frames), results["true"][i], to_float(tgt.frames)])
    sheet = contact_sheet(cfg.run_dir / "validation" / f"sheet-{step:08d}.png", sheet_rows) if sheet_rows else None
    metrics["val_chance"] = 1 / len(judge.classes)
    return metrics, sheet
