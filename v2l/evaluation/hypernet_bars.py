"""The release bar of the tiny hypernetwork (issue 5), measured on held-out content only.

For every target clip (held-out content, known semantic) the same first frame and caption are generated
three times: with a LoRA predicted from a *true* reference (same semantic, other held-out content), with one
from a *wrong* reference (another semantic), and with no LoRA. The judge scores each against the target's
semantic. True minus wrong is the "reference ignored" guard: a hypernetwork that ignores its reference scores
the same on both. Seen semantics carry the bar; held-out semantics (zero-shot) are reported beside it.
"""

from __future__ import annotations

import numpy as np
import torch

from v2l.inference.generate import generate


def _references(world_cfg, content, names: list[str], labels: torch.Tensor, content_ids: list[int], seed: int):
    """A true and a wrong reference per target, both on held-out content other than the target's."""
    from v2l.pretrain.world import ClipSampler

    sampler = ClipSampler(world_cfg, content, names, seed=seed)
    rng = np.random.default_rng(seed)
    true, wrong, wrong_labels = [], [], []
    for label, ci in zip(labels.tolist(), content_ids):
        others = [i for i in range(len(content)) if i != ci]
        true.append(sampler.clip(int(rng.choice(others)), label, int(rng.integers(2**31 - 1))))
        other = int(rng.choice([s for s in range(len(names)) if s != label]))
        wrong.append(sampler.clip(int(rng.choice(others)), other, int(rng.integers(2**31 - 1))))
        wrong_labels.append(other)
    return torch.stack(true), torch.stack(wrong), torch.tensor(wrong_labels)


def _targets(world_cfg, content, names: list[str], per_semantic: int, seed: int):
    """per_semantic held-out clips per semantic, remembering each one's content index."""
    from v2l.pretrain.judge import balanced_eval_set

    return balanced_eval_set(world_cfg, content, names, per_semantic, seed, with_content_ids=True)


def bootstrap_interval(values: torch.Tensor, resamples: int = 2000, seed: int = 0) -> list[float]:
    """95 % bootstrap interval of the mean of per-sample values (paired differences work the same way)."""
    g = torch.Generator().manual_seed(seed)
    idx = torch.randint(len(values), (resamples, len(values)), generator=g)
    means = values.float()[idx].mean(1)
    return [float(means.quantile(0.025)), float(means.quantile(0.975))]


@torch.no_grad()
def _generate_all(model, images, captions, refs, steps: int, seed: int, batch: int,
                  codes: torch.Tensor | None = None) -> torch.Tensor:
    """refs: reference clips to predict LoRAs from; or codes: LoRA vectors given directly; neither: no LoRA."""
    out = []
    for i in range(0, len(images), batch):
        A = B = None
        if refs is not None:
            A, B = model.predict_factors(refs[i:i + batch])
        elif codes is not None:
            A, B = model.network.split(codes[i:i + batch])
        out.append(generate(model, images[i:i + batch], captions[i:i + batch], A, B, steps=steps, seed=seed + i))
    return torch.cat(out)


@torch.no_grad()
def measure_split(model, judge, world_cfg, which: str, per_semantic: int, steps: int = 25, seed: int = 0,
                  batch: int = 24, semantic_codes: dict[str, torch.Tensor] | None = None) -> dict:
    """`which`: "seen" (training semantics) or "zero_shot" (held-out semantics); content is always held out.

    `semantic_codes` (the staged recipe's per-semantic LoRA codes) adds an arm generating with the code of the
    target's own semantic: the ceiling a hypernetwork distilled from those codes can reach."""
    from v2l.pretrain.world import load_content, semantics_for

    model.hypernet.eval()
    names = semantics_for("train" if which == "seen" else "heldout")
    content = load_content(world_cfg)["heldout"]
    offset = 50_000 if which == "seen" else 60_000
    clips, labels, captions, content_ids = _targets(world_cfg, content, names, per_semantic, seed + offset)
    true_refs, wrong_refs, wrong_labels = _references(world_cfg, content, names, labels, content_ids, seed + offset + 1)
    images = clips[:, :, 0]
    to_judge = torch.tensor([judge.classes.index(n) for n in names])
    wanted, wrong_wanted = to_judge[labels], to_judge[wrong_labels]
    result = {"samples": len(clips), "semantics": len(names)}
    per_semantic_true, hits = {}, {}
    arms = [("true_ref", true_refs, None), ("wrong_ref", wrong_refs, None), ("no_lora", None, None)]
    if semantic_codes is not None:
        arms.append(("semantic_code", None, torch.stack([semantic_codes[names[i]] for i in labels.tolist()])))
    for arm, refs, codes in arms:
        videos = _generate_all(model, images, captions, refs, steps, seed, batch, codes)
        pred = judge.probabilities(videos).argmax(-1)
        hits[arm] = (pred == wanted).float()
        result[f"judge_acc_{arm}"] = float(hits[arm].mean())
        result[f"judge_acc_{arm}_ci95"] = bootstrap_interval(hits[arm])
        if arm == "wrong_ref":  # does the generation follow the (wrong) reference instead of the target's label?
            result["judge_acc_wrong_ref_vs_its_reference"] = float((pred == wrong_wanted).float().mean())
        if arm == "true_ref":
            per_semantic_true = {n: float((pred[labels == i] == wanted[labels == i]).float().mean())
                                 for i, n in enumerate(names)}
    result["true_minus_wrong"] = result["judge_acc_true_ref"] - result["judge_acc_wrong_ref"]
    result["true_minus_wrong_ci95"] = bootstrap_interval(hits["true_ref"] - hits["wrong_ref"])  # paired
    result["chance_uniform_over_split"] = 1 / len(names)  # a random semantic of this split
    result["chance_uniform_over_judge"] = 1 / len(judge.classes)  # a random semantic of any split
    result["per_semantic_true_ref"] = per_semantic_true
    result["reference_clip_judge_accuracy"] = float(
        (judge.probabilities(true_refs).argmax(-1) == wanted).float().mean())
    result["steps"] = steps
    return result


def measure_hypernet(model, judge, world_cfg, per_semantic: int = 4, zero_shot_per_semantic: int = 8,
                     steps: int = 25, seed: int = 0, semantic_codes: dict[str, torch.Tensor] | None = None) -> dict:
    seen = measure_split(model, judge, world_cfg, "seen", per_semantic, steps, seed, semantic_codes=semantic_codes)
    zero = measure_split(model, judge, world_cfg, "zero_shot", zero_shot_per_semantic, steps, seed)
    return {"seen_semantics": seen, "zero_shot": zero,
            "bar_true_ref_at_least_0.40": seen["judge_acc_true_ref"] >= 0.40,
            "bar_true_minus_wrong_at_least_0.25": seen["true_minus_wrong"] >= 0.25}


def checkpoint_codes(checkpoint) -> dict[str, torch.Tensor] | None:
    """The staged recipe's per-semantic codes stored in a training checkpoint (None for the paper recipe)."""
    import json
    from pathlib import Path

    from safetensors.torch import load_file

    checkpoint = Path(checkpoint)
    tensors = load_file(str(checkpoint / "weights.safetensors"))
    if "staged.codes" not in tensors:
        return None
    from v2l.pretrain.world import semantics_for

    cfg = json.loads((checkpoint / "train_config.json").read_text())
    names = list(cfg.get("staged", {}).get("semantics") or semantics_for("train"))
    return dict(zip(names, tensors["staged.codes"]))


def per_condition_comparison(per_condition: dict, hypernet_per_semantic: dict) -> dict:
    """The old way beside the hypernetwork: per-condition LoRAs' accuracy (a transformer card's
    `per_condition_lora`) and the hypernetwork's true-reference accuracy on the same semantics."""
    per_lora = per_condition.get("per_semantic", {})
    return {**{k: per_condition[k] for k in ("mean_judge_accuracy", "mean_train_seconds") if k in per_condition},
            "per_semantic": {n: r["judge_accuracy"] for n, r in per_lora.items()},
            "hypernet_true_ref_same_semantics": {n: hypernet_per_semantic.get(n) for n in per_lora}}


def refresh_committed_comparison(root) -> bool:
    """After new per-condition LoRAs: rewrite the committed hypernetwork's comparison from its stored per-semantic
    accuracy (no re-measuring). Only when the hypernetwork was trained on the committed transformer."""
    import json
    from pathlib import Path

    from v2l.pretrain.cards import update_metrics
    from v2l.pretrain.lineage import stale_upstream

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
