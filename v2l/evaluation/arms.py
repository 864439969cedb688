"""What an evaluation generates: the targets of a split and, per target, the condition of every arm.

Splits: `seen` (training semantics), `zeroshot` (tier 1: known to the backbone, unseen by the hypernetwork, the
paper's setting), `novel` (tier 2: seen by no model but the judge), all from the semantics registry and always on
held-out content; `real` (clips of `v2l content fetch`, no label) as references for held-out first
frames. Arms: `no_lora`; `true_ref` (a reference of the target's semantic on other held-out content); `wrong_ref`
(a reference of another semantic: the "reference ignored" guard); `semantic_code` (the staged recipe's code of
the target's semantic, where the checkpoint has codes); `per_condition` (a standard LoRA trained for the
target's semantic, the old way, where one exists).

Generation runs in chunks of `batch` targets seeded with `seed + first index`: the unit of work of every runner,
so an in-process loop and any number of actors produce the same videos.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from v2l.data.semantics.registry import get_semantic
from v2l.errors import V2LError
from v2l.inference.predict import load_reference
from v2l.library.index import INFO, read_library
from v2l.lora.files import check_compatible, load_compact
from v2l.video.pixels import to_float
from v2l.world.eval_sets import balanced_eval_set
from v2l.world.sampler import ClipSampler, load_content, semantics_for

SPLITS = ("seen", "zeroshot", "novel", "real")
ARMS = ("no_lora", "true_ref", "wrong_ref", "semantic_code", "per_condition")
# Seed offsets of the release measurement: targets at seed + offset, their references at seed + offset + 1.
SPLIT_SEED_OFFSET = {"seen": 50_000, "zeroshot": 60_000, "real": 70_000, "novel": 80_000}
VIDEO_SUFFIXES = (".mp4", ".avi", ".mpg", ".mpeg", ".ogv", ".mov", ".mkv", ".webm")


@dataclass
class Target:
    """One held-out first frame and caption, its ground truth (synthetic splits) and its references."""

    split: str
    index: int
    caption: str
    content_id: str
    image: torch.Tensor  # (3, H, W)
    true_ref: torch.Tensor  # (3, F, H, W)
    wrong_ref: torch.Tensor
    semantic: str | None = None  # None: an unlabelled real reference
    family: str | None = None
    wrong_semantic: str | None = None
    truth: torch.Tensor | None = None
    true_ref_source: str = ""
    wrong_ref_source: str = ""


@dataclass
class GenerationTask:
    """One chunk of one arm: what a runner generates. `codes` are LoRA vectors given directly; `adapter` a
    per-condition LoRA folder; `references` are clips to predict LoRAs from; none of them: no LoRA."""

    split: str
    arm: str
    indices: list[int]
    images: torch.Tensor
    captions: list[str]
    seed: int
    references: torch.Tensor | None = None
    codes: torch.Tensor | None = None
    adapter: str | None = None
    semantic: str | None = None  # the per-condition LoRA's semantic (its peft adapter name)
    adapter_format: str = "peft"  # peft: a `v2l evaluate steer` adapter folder; compact: a library's LoRA file


@dataclass
class PerConditionLoRA:
    """One LoRA for one semantic: a standard peft LoRA trained the old way (`v2l evaluate steer`, `format` peft,
    `train_seconds` its training time), or a LoRA library's entry labelled with the semantic (`format` compact,
    `train_seconds` the seconds the library spent making it)."""

    semantic: str
    adapter: Path  # peft: the adapter folder; compact: the .compact.safetensors file
    train_seconds: float | None
    rank: int
    format: str = "peft"


@dataclass
class SplitPlan:
    split: str
    targets: list[Target]
    tasks: list[GenerationTask] = field(default_factory=list)
    semantics: list[str] = field(default_factory=list)


def family_of(name: str) -> str:
    return get_semantic(name).family


def split_semantics(split: str, only: list[str] | None = None) -> list[str]:
    """The registry's semantics of a split, in registry order; `only` keeps a subset (tiny evaluations)."""

    names = semantics_for({"seen": "train", "zeroshot": "tier1", "novel": "tier2"}[split])
    if only:
        unknown = sorted(set(only) - set(semantics_for("all")))
        if unknown:
            raise V2LError(f"--semantics {','.join(unknown)}: not registered; choose from `v2l data semantics`")
        names = [n for n in names if n in only]
    return names


def synthetic_targets(world_cfg, split: str, names: list[str], per_semantic: int, seed: int) -> list[Target]:
    """per_semantic held-out clips per semantic, each with a true and a wrong reference on other held-out content."""

    content = load_content(world_cfg)["heldout"]
    offset = SPLIT_SEED_OFFSET[split]
    clips, labels, captions, content_ids = balanced_eval_set(
        world_cfg, content, names, per_semantic, seed + offset, with_content_ids=True
    )
    sampler = ClipSampler(world_cfg, content, names, seed=seed + offset + 1)
    rng = np.random.default_rng(seed + offset + 1)
    targets = []
    for i, (label, ci) in enumerate(zip(labels.tolist(), content_ids)):
        others = [j for j in range(len(content)) if j != ci]
        true_ci = int(rng.choice(others))
        true_ref = sampler.clip(true_ci, label, int(rng.integers(2**31 - 1)))
        other = int(rng.choice([s for s in range(len(names)) if s != label])) if len(names) > 1 else label
        wrong_ci = int(rng.choice(others))
        wrong_ref = sampler.clip(wrong_ci, other, int(rng.integers(2**31 - 1)))
        targets.append(
            Target(
                split,
                i,
                captions[i],
                content[ci].id,
                clips[i][:, 0],
                true_ref,
                wrong_ref,
                names[label],
                family_of(names[label]),
                names[other],
                clips[i],
                f"rendered {names[label]} on {content[true_ci].id}",
                f"rendered {names[other]} on {content[wrong_ci].id}",
            )
        )
    return targets


def real_clip_files(folder: str | Path) -> list[Path]:
    folder = Path(folder)
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in VIDEO_SUFFIXES) if folder.is_dir() else []
    if len(files) < 2:
        raise V2LError(
            f"split 'real' needs at least 2 clips in {folder} (found {len(files)}); run "
            f"`v2l content fetch --dest {folder}` or pass --real-clips DIR"
        )
    return files


def real_targets(
    world_cfg, model, folder: str | Path, seed: int, limit: int | None = None, sampling=None
) -> list[Target]:
    """Each real clip is the true reference of one held-out first frame; the next clip is its wrong reference.
    Clips are sampled in time as `sampling` (a ReferenceSampling; default: the default window) says, as
    `v2l predict` samples a user's clip."""

    files = real_clip_files(folder)[:limit] if limit else real_clip_files(folder)
    if len(files) < 2:
        raise V2LError(f"split 'real' needs at least 2 clips; --real-per-split {limit} keeps fewer")
    clips = [load_reference(model, f, sampling) for f in files]
    content = load_content(world_cfg)["heldout"]
    spec = model.backbone.spec
    rng = np.random.default_rng(seed + SPLIT_SEED_OFFSET["real"])
    targets = []
    for i, (path, ref) in enumerate(zip(files, clips)):
        ci = int(rng.integers(len(content)))
        image = _content_frame(world_cfg, content[ci], spec.height, spec.width)
        j = (i + 1) % len(files)
        targets.append(
            Target(
                "real",
                i,
                content[ci].caption,
                content[ci].id,
                image,
                ref,
                clips[j],
                true_ref_source=path.name,
                wrong_ref_source=files[j].name,
            )
        )
    return targets


def _content_frame(world_cfg, item, height: int, width: int) -> torch.Tensor:
    """The held-out content's untransformed first frame, as every synthetic target starts."""

    frames, _ = get_semantic("fade_black")(item.image, 0, 1, (height, width))  # frame 0 is the base crop
    return to_float(torch.from_numpy(frames[0]).permute(2, 0, 1))


def load_per_condition(folder: str | Path | None) -> dict[str, PerConditionLoRA]:
    """Per-condition LoRAs, one per semantic, from either
    - a `v2l evaluate steer` output folder: `<semantic>/adapter.safetensors` and its `result.json` (training
      seconds, rank), or
    - a LoRA library (`v2l library build --labels`): for each label, the entry with the smallest reference sha256
      that has a compact file; its cost is the entry's `seconds`."""
    if folder is None:
        return {}
    folder = Path(folder)
    if not folder.is_dir():
        raise V2LError(
            f"--per-condition {folder}: not a folder; pass the --out folder of `v2l evaluate steer` or a "
            f"LoRA library (`v2l library build`)"
        )

    if (folder / INFO).is_file():
        return _library_loras(folder)
    found = {}
    for adapter in sorted(folder.glob("*/adapter.safetensors")):
        result_file = adapter.parent / "result.json"
        result = json.loads(result_file.read_text()) if result_file.is_file() else {}
        found[adapter.parent.name] = PerConditionLoRA(
            adapter.parent.name, adapter.parent, result.get("seconds"), int(result.get("rank", 4))
        )
    if not found:
        raise V2LError(
            f"--per-condition {folder}: no <semantic>/adapter.safetensors inside; pass the --out folder "
            f"of `v2l evaluate steer` or a LoRA library"
        )
    return found


def _library_loras(root: Path) -> dict[str, PerConditionLoRA]:
    lib = read_library(root, must_exist=True)
    found: dict[str, PerConditionLoRA] = {}
    for sha in sorted(lib.rows):
        row = lib.rows[sha]
        label, rel = row.get("label"), row.get("compact_path")
        if label and rel and label not in found:
            seconds = row.get("seconds")
            found[label] = PerConditionLoRA(
                label, root / rel, float(seconds) if seconds is not None else None, 0, format="compact"
            )
    if not found:
        raise V2LError(
            f"--per-condition {root}: the library has no labelled entry with a compact LoRA; build it "
            f"with `v2l library build --labels CSV --formats compact`"
        )
    return found


def check_per_condition(per_condition: dict[str, PerConditionLoRA], model) -> None:
    """A library's compact LoRAs only mean something with the hypernetwork that made them: refuse others early."""

    for lora in per_condition.values():
        if lora.format == "compact":
            check_compatible(load_compact(lora.adapter), model, f"--per-condition LoRA {lora.adapter}")


def plan_tasks(
    plan: SplitPlan,
    arms: list[str],
    seed: int,
    batch: int,
    codes: dict[str, torch.Tensor] | None = None,
    per_condition: dict[str, PerConditionLoRA] | None = None,
) -> SplitPlan:
    """The generation chunks of every arm that applies to this split."""
    targets = plan.targets
    images = torch.stack([t.image for t in targets])
    captions = [t.caption for t in targets]
    for arm in arms:
        if arm == "semantic_code" and (codes is None or plan.split == "real"):
            continue
        if arm == "per_condition":
            for name, lora in (per_condition or {}).items():
                idx = [t.index for t in targets if t.semantic == name]
                for i in range(0, len(idx), batch):
                    chunk = idx[i : i + batch]
                    plan.tasks.append(
                        GenerationTask(
                            plan.split,
                            arm,
                            chunk,
                            images[chunk],
                            [captions[k] for k in chunk],
                            seed + chunk[0],
                            adapter=str(lora.adapter),
                            semantic=name,
                            adapter_format=lora.format,
                        )
                    )
            continue
        for i in range(0, len(targets), batch):
            chunk = list(range(i, min(i + batch, len(targets))))
            task = GenerationTask(plan.split, arm, chunk, images[chunk], [captions[k] for k in chunk], seed + i)
            if arm == "true_ref":
                task.references = torch.stack([targets[k].true_ref for k in chunk])
            elif arm == "wrong_ref":
                task.references = torch.stack([targets[k].wrong_ref for k in chunk])
            elif arm == "semantic_code":
                if any(targets[k].semantic not in codes for k in chunk):
                    continue
                task.codes = torch.stack([codes[targets[k].semantic] for k in chunk])
            plan.tasks.append(task)
    return plan
