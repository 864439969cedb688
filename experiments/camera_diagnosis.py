"""Why do camera moves fail? Short, comparable runs on the committed tiny backbone, one table row each.

Each row trains LoRA parameters for one or more semantics with the diffusion loss on cached latents of rendered
clips (the staged recipe's codes stage, or a peft LoRA for the per-condition baseline), then judges every semantic
on held-out first frames with the LoRA set (16 samples, 25 steps, as `v2l evaluate steer`). Rows differ in one
thing from their neighbour: how the LoRA is parametrised (rank, aux widths a/b, scale, which aux), the optimiser
(learning rates, the aux gradient clip) or the semantics trained together.

    python experiments/camera_diagnosis.py            # every row not yet in the results file
    python experiments/camera_diagnosis.py --only code_r1_release,peft_r4

Results append to experiments/camera_diagnosis.jsonl (one JSON object per row, written atomically per row), so
an interrupted run resumes at the next row. The README's "Camera moves" findings table is built from that file.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "camera_diagnosis.jsonl"
CAMERA = [
    "pan_left",
    "pan_right",
    "pan_up",
    "pan_down",
    "zoom_in",
    "zoom_out",
    "rotate_cw",
    "rotate_ccw",
    "shake",
    "orbit",
]
# The hypernetwork's 24 training semantics (camera, effects, styles), as the committed backbone's registry has them.
TRAIN = CAMERA + [
    "blur",
    "dissolve",
    "explode",
    "fade_black",
    "inflate",
    "melt",
    "squish",
    "swirl",
    "grayscale",
    "hue_cycle",
    "posterize",
    "sepia",
    "sketch",
    "vivid",
]


class Row(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    what: str
    # code: LightLoRA code per semantic through aux matrices; peft: standard LoRA (one semantic); checkpoint: the
    # codes and aux of a training checkpoint of the real trainer (`checkpoint`), judged here as every other row;
    # reader: the committed hypernetwork's predictions for held-out references, matched to those codes (no video);
    # distill: a fresh hypernetwork (`hypernet` overrides) distilled to those codes, matched the same way
    kind: str = "code"
    checkpoint: str | None = None
    hypernet: dict = {}
    semantics: list[str] = ["pan_left"]
    steps: int = 600
    batch: int = 16
    r: int = 1
    a: int = 100
    b: int = 50
    scale: float = 1.0
    code_lr: float = 3e-3
    aux_lr: float = 3e-4  # the release run's optim.lr; 0 freezes the aux matrices
    aux_grad_clip: float | None = 0.05
    aux: str = "fresh"  # fresh: orthogonal init (as a new training run); committed: the release hypernetwork's
    clips_per_semantic: int = 768
    samples: int = 16
    seed: int = 0
    # module-name suffixes inside each block the LoRA wraps; empty: the four attention projections (both kinds)
    targets: list[str] = []


ATTN_FF = ["attn1.to_q", "attn1.to_k", "attn1.to_v", "attn1.to_out.0", "ff.net.0.proj", "ff.net.2"]
ALL_LINEAR = ATTN_FF + ["norm1.linear", "norm2.linear"]

ROWS = [
    Row(name="peft_r4", kind="peft", r=4, what="peft LoRA, rank 4, lr 3e-3 (the per-condition baseline)"),
    Row(name="peft_r1", kind="peft", r=1, what="peft LoRA, rank 1: do the modules suffice at rank 1?"),
    Row(name="code_r1_release", what="LightLoRA code, release settings (r 1, a 100, b 50, aux lr 3e-4, clip 0.05)"),
    Row(
        name="code_r1_committed_aux",
        aux="committed",
        aux_lr=0.0,
        what="the same code through the committed model's shared aux, frozen",
    ),
    Row(
        name="code_r1_aux_free",
        aux_lr=3e-3,
        aux_grad_clip=None,
        what="aux trained like the code (lr 3e-3, no clip): peft's optimiser for everything",
    ),
    Row(name="code_r1_full_width", a=128, b=128, what="a = b = 128 (the tiny width): no aux subspace"),
    Row(name="code_r4", r=4, what="rank 4 through the aux"),
    Row(name="code_r1_scale4", scale=4.0, what="LoRA scale 4 (larger effective step on the code)"),
    Row(name="code_r1_lr1e-2", code_lr=1e-2, what="code lr 1e-2"),
    # Rotations render at 6-44 % in every joint row: can any LoRA on these modules steer the backbone to one?
    Row(name="peft_r4_rotate_cw", kind="peft", r=4, semantics=["rotate_cw"], what="peft rank 4 on rotate_cw alone"),
    Row(name="code_r1_rotate_cw", semantics=["rotate_cw"], what="a release-settings code on rotate_cw alone"),
    Row(name="code_r4_rotate_cw", r=4, semantics=["rotate_cw"], what="a rank-4 code on rotate_cw alone"),
    Row(
        name="peft_r4_rotate_cw_long",
        kind="peft",
        r=4,
        steps=1800,
        semantics=["rotate_cw"],
        what="peft rank 4 on rotate_cw, 3x the steps",
    ),
    # Which modules does a rotation need? The same rows with the feed-forward (and the adaLN modulation) wrapped too.
    Row(
        name="peft_r4_rotate_cw_ff",
        kind="peft",
        r=4,
        semantics=["rotate_cw"],
        targets=ATTN_FF,
        what="peft rank 4 on rotate_cw, attention + feed-forward (6 modules per block)",
    ),
    Row(
        name="peft_r4_rotate_cw_all",
        kind="peft",
        r=4,
        semantics=["rotate_cw"],
        targets=ALL_LINEAR,
        what="peft rank 4 on rotate_cw, every linear of a block (+ the adaLN norm1/norm2 modulation)",
    ),
    Row(
        name="code_r4_rotate_cw_ff",
        r=4,
        semantics=["rotate_cw"],
        targets=ATTN_FF,
        what="a rank-4 code on rotate_cw alone, attention + feed-forward",
    ),
    Row(
        name="codes_camera_joint",
        semantics=CAMERA,
        steps=1800,
        clips_per_semantic=256,
        what="codes for the 10 camera semantics trained jointly (release settings, 3x the steps)",
    ),
    Row(
        name="codes_camera_release_budget",
        semantics=CAMERA,
        steps=4170,
        batch=4,
        clips_per_semantic=256,
        what="the same at the release codes stage's batch 4 and samples per semantic (~1,670 each)",
    ),
    Row(
        name="codes_all_joint",
        semantics=TRAIN,
        steps=4320,
        clips_per_semantic=256,
        what="codes for all 24 training semantics jointly, the camera row's samples per semantic (2,880 each)",
    ),
    Row(
        name="trainer_release_codes_2w",
        kind="checkpoint",
        semantics=CAMERA,
        checkpoint="runs/train/camera-release-codes/checkpoints/step-00005000",
        what="the release codes stage through the real trainer (Ray Train, 2 DDP workers, batch 4 each, 5,000 "
        "steps, 512 clips per semantic and worker: experiments/camera-release-codes.yaml)",
    ),
    Row(
        name="reader_release_hypernet",
        kind="reader",
        semantics=TRAIN,
        checkpoint="runs/train/camera-release-codes/checkpoints/step-00005000",
        what="the committed hypernetwork's LoRA for held-out references of each training semantic: which of the "
        "release codes stage's codes (trainer_release_codes_2w, its distillation targets) is nearest",
    ),
    Row(
        name="distill_release_reader",
        kind="distill",
        semantics=TRAIN,
        checkpoint="runs/train/camera-release-codes/checkpoints/step-00005000",
        hypernet={"reference_pos_encoding": True},
        steps=5000,
        batch=8,
        clips_per_semantic=256,
        what="a fresh release hypernetwork (reference positions on) distilled to those codes, 5,000 steps at batch 8",
    ),
    Row(
        name="distill_motion_reader",
        kind="distill",
        semantics=TRAIN,
        checkpoint="runs/train/camera-release-codes/checkpoints/step-00005000",
        hypernet={"reference_pos_encoding": True, "reference_motion": 2},
        steps=5000,
        batch=8,
        clips_per_semantic=256,
        what="the same with a local cost volume in every reference token (hypernet.reference_motion 2)",
    ),
]


def _source(backbone, semantics: list[str], clips_per_semantic: int, seed: int):
    """Rendered training clips of `semantics` (training content), encoded once: a latent-cache PairSource."""
    from v2l.training.pairs import Clip, PairSource, cache_latents_in_memory
    from v2l.video.pixels import to_uint8
    from v2l.world.sampler import ClipSampler, WorldConfig, load_content

    world = WorldConfig()
    content = load_content(world)["train"]
    sampler = ClipSampler(world, content, semantics, seed=seed + 1000)
    rng = np.random.default_rng(seed)
    clips = []
    for si, name in enumerate(semantics):
        for _ in range(clips_per_semantic):
            ci = int(rng.integers(len(content)))
            clips.append(
                Clip(
                    to_uint8(sampler.clip(ci, si, int(rng.integers(2**31 - 1)))),
                    content[ci].caption,
                    name,
                    content[ci].id,
                )
            )
    return cache_latents_in_memory(PairSource(clips, clips, redraw=True), backbone)


def _judge_all(backbone, judge, semantics, set_lora, samples: int, seed: int) -> dict[str, float]:
    from v2l.evaluation.world_bars import judged_accuracy
    from v2l.world.sampler import WorldConfig

    out = {}
    for name in semantics:
        with set_lora(name):
            out[name] = judged_accuracy(backbone, judge, WorldConfig(), name, samples, steps=25, seed=seed)
    return out


def run_code(row: Row) -> dict:
    """The staged recipe's codes stage (v2l.training.staged) on these semantics, with this row's LoRA and optimiser."""
    import contextlib
    import random

    from v2l.backbones import get_spec
    from v2l.backbones.tiny import TINY_WEIGHTS
    from v2l.config import LoRAConfig, V2LConfig
    from v2l.evaluation.judge import VideoJudge
    from v2l.model import Video2LoRA
    from v2l.training.pairs import step_seed
    from v2l.training.staged import SemanticCodes, StagedConfig, staged_loss
    from v2l.training.step import OptimConfig

    backbone = get_spec("tiny").default()
    extra = {"target_modules": tuple(row.targets)} if row.targets else {}
    lora = LoRAConfig(r=row.r, a=row.a, b=row.b, scale=row.scale, **extra)
    model = Video2LoRA(backbone, V2LConfig(preset="tiny", lora=lora), seed=row.seed)
    if row.aux == "committed":
        committed = Video2LoRA.from_checkpoint(TINY_WEIGHTS / "hypernet", get_spec("tiny").default())
        if committed.cfg.lora != lora:
            raise SystemExit(f"{row.name}: the committed aux is {committed.cfg.lora}, not {lora}")
        model.network.load_aux_state_dict(committed.network.aux_state_dict())
    aux = model.network.aux_parameters()
    for p in aux:
        p.data = p.data.float()
        p.requires_grad_(row.aux_lr > 0)
    torch.manual_seed(row.seed + 1)
    codes = SemanticCodes(row.semantics, len(model.network), lora, model.hypernet.width)
    groups = [{"params": list(codes.parameters()), "lr": row.code_lr}]
    if row.aux_lr > 0:
        groups.append({"params": aux, "lr": row.aux_lr})
    opt = torch.optim.AdamW(groups, eps=1e-10, weight_decay=0.03)
    optim_cfg = OptimConfig(lr=row.aux_lr, caption_dropout=0.1, aux_grad_clip=row.aux_grad_clip)
    source = _source(backbone, row.semantics, row.clips_per_semantic, row.seed)
    empty = backbone.encode_text([""])
    staged = StagedConfig(codes_steps=row.steps, distill_steps=0, semantics=tuple(row.semantics))
    t0, losses = time.perf_counter(), []
    for step in range(row.steps):
        batch = source.batch(step, 0, row.batch, row.seed)
        gen = torch.Generator().manual_seed(step_seed(row.seed, step, 0, 2))
        loss, _ = staged_loss(model, codes, "codes", batch, optim_cfg, staged, gen, random.Random(step), empty)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if row.aux_lr > 0 and row.aux_grad_clip:
            torch.nn.utils.clip_grad_norm_(aux, row.aux_grad_clip)
        opt.step()
        losses.append(loss.item())
    seconds = time.perf_counter() - t0

    @contextlib.contextmanager
    def set_lora(name):
        A, B = model.network.split(codes.codes.detach()[codes.index([name])])
        with torch.no_grad(), model.network.applied(A, B, shared=True):
            yield

    judge = VideoJudge.load(TINY_WEIGHTS / "judge")
    acc = _judge_all(backbone, judge, row.semantics, set_lora, row.samples, row.seed)
    norms = codes.codes.detach().flatten(1).norm(dim=1).tolist()
    return {
        "train_seconds": seconds,
        "final_loss": float(np.mean(losses[-50:])),
        "judge": acc,
        "code_norms": dict(zip(row.semantics, norms)),
    }


def run_checkpoint(row: Row) -> dict:
    """Codes and aux as the real trainer left them in a checkpoint, judged with this runner's path."""
    import contextlib

    from v2l.backbones import get_spec
    from v2l.backbones.tiny import TINY_WEIGHTS
    from v2l.evaluation.checkpoint_codes import checkpoint_codes
    from v2l.evaluation.judge import VideoJudge
    from v2l.model import Video2LoRA

    backbone = get_spec("tiny").default()
    model = Video2LoRA.from_checkpoint(row.checkpoint, backbone)
    codes = checkpoint_codes(row.checkpoint)
    if codes is None:
        raise SystemExit(f"{row.name}: {row.checkpoint} holds no staged codes")

    @contextlib.contextmanager
    def set_lora(name):
        A, B = model.network.split(codes[name][None].float())
        with torch.no_grad(), model.network.applied(A, B, shared=True):
            yield

    judge = VideoJudge.load(TINY_WEIGHTS / "judge")
    acc = _judge_all(backbone, judge, row.semantics, set_lora, row.samples, row.seed)
    norms = {n: float(codes[n].float().norm()) for n in row.semantics}
    return {"train_seconds": None, "final_loss": None, "judge": acc, "code_norms": norms}


def run_reader(row: Row, model=None) -> dict:
    """Can the hypernetwork's reference reader tell the semantics apart? Its predicted LoRA vector for each
    held-out reference is matched (least squared distance) to the per-semantic codes it was distilled to."""
    from v2l.model import default_model

    return _match_codes(row, model or default_model())  # default: the committed release hypernetwork


@torch.no_grad()
def _match_codes(row: Row, model) -> dict:
    from v2l.evaluation.checkpoint_codes import checkpoint_codes
    from v2l.world.eval_sets import balanced_eval_set
    from v2l.world.sampler import WorldConfig, load_content

    model.hypernet.eval()
    codes = checkpoint_codes(row.checkpoint)
    if codes is None:
        raise SystemExit(f"{row.name}: {row.checkpoint} holds no staged codes")
    names = list(codes)
    table = torch.stack([codes[n].float().flatten() for n in names])
    world = WorldConfig()
    content = load_content(world)["heldout"]
    t0 = time.perf_counter()
    acc, nearest, own_dist, other_dist = {}, {}, {}, {}
    for name in row.semantics:
        refs, _, _ = balanced_eval_set(world, content, [name], row.samples, row.seed + 50_001)
        pred = model.predict(refs).float().flatten(1)
        dist = torch.cdist(pred, table)
        hit = dist.argmin(1)
        acc[name] = float((hit == names.index(name)).float().mean())
        nearest[name] = names[int(hit.mode().values)]
        own_dist[name] = float(dist[:, names.index(name)].mean())
        other_dist[name] = float(
            torch.cat([dist[:, : names.index(name)], dist[:, names.index(name) + 1 :]], 1).min(1).values.mean()
        )
    return {
        "train_seconds": time.perf_counter() - t0,
        "final_loss": None,
        "judge": acc,  # here: how often the prediction's nearest code is its own semantic's (not a judge)
        "nearest_code": nearest,
        "distance_own_code": own_dist,
        "distance_nearest_other_code": other_dist,
    }


def run_distill(row: Row) -> dict:
    """The staged recipe's distillation stage alone: a fresh hypernetwork learns the checkpoint's codes from
    rendered references (weight-space MSE plus the semantic head, as v2l.training.staged), then is matched."""
    import random

    from v2l.backbones import get_spec
    from v2l.config import HypernetConfig, V2LConfig
    from v2l.evaluation.checkpoint_codes import checkpoint_codes
    from v2l.model import Video2LoRA
    from v2l.training.staged import SemanticCodes, StagedConfig, staged_loss
    from v2l.training.step import OptimConfig, build_optimizer

    backbone = get_spec("tiny").default()
    trained = Video2LoRA.from_checkpoint(row.checkpoint, backbone)
    cfg = V2LConfig(preset="tiny", lora=trained.cfg.lora, hypernet=HypernetConfig(**row.hypernet))
    model = Video2LoRA(backbone, cfg, seed=row.seed)
    model.network.load_aux_state_dict(trained.network.aux_state_dict())
    for p in model.trainable_parameters():
        p.data = p.data.float()
    stored = checkpoint_codes(row.checkpoint)
    torch.manual_seed(row.seed + 1)
    codes = SemanticCodes(list(stored), len(model.network), cfg.lora, model.hypernet.width)
    codes.codes.data = torch.stack([stored[n].float() for n in codes.names])
    codes.codes.requires_grad_(False)
    optim_cfg = OptimConfig(lr=3e-4, weight_decay=0.03, eps=1e-10, aux_grad_clip=0.05, caption_dropout=0.1)
    opt = build_optimizer(model, optim_cfg)
    opt.add_param_group({"params": list(codes.head.parameters()), "lr": 3e-4, "name": "head"})
    source = _source(backbone, list(stored), row.clips_per_semantic, row.seed)
    staged = StagedConfig(codes_steps=0, distill_steps=row.steps, semantics=tuple(stored))
    t0, losses, class_acc = time.perf_counter(), [], []
    model.hypernet.train()
    for step in range(row.steps):
        batch = source.batch(step, 0, row.batch, row.seed)
        loss, extra = staged_loss(model, codes, "distill", batch, optim_cfg, staged, None, random.Random(step))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses.append(extra["distill_mse"])
        class_acc.append(extra["reference_class_acc"])
    seconds = time.perf_counter() - t0
    out = _match_codes(row, model)
    return {
        **out,
        "train_seconds": seconds,
        "final_loss": float(np.mean(losses[-200:])),
        "train_reference_class_acc": float(np.mean(class_acc[-200:])),
    }


def run_peft(row: Row) -> dict:
    """A standard peft LoRA (v2l.baselines.per_condition) on the same four attention projections, same steps."""
    import contextlib

    from v2l.backbones import get_spec
    from v2l.backbones.tiny import TINY_WEIGHTS
    from v2l.baselines.per_condition import train_lora
    from v2l.evaluation.judge import VideoJudge

    (semantic,) = row.semantics
    backbone = get_spec("tiny").default()
    result = train_lora(
        backbone,
        semantic,
        minutes=1e6,
        rank=row.r,
        batch=row.batch,
        lr=row.code_lr,
        clips=row.clips_per_semantic,
        seed=row.seed,
        max_steps=row.steps,
        **({"targets": row.targets} if row.targets else {}),
    )
    judge = VideoJudge.load(TINY_WEIGHTS / "judge")
    acc = _judge_all(backbone, judge, row.semantics, lambda n: contextlib.nullcontext(), row.samples, row.seed)
    return {"train_seconds": result["seconds"], "final_loss": result["final_loss"], "judge": acc}


def main(argv: list[str] | None = None) -> int:
    from v2l.atomic import write_text_atomic

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default="", help="comma-separated row names (default: every row not yet done)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--smoke", action="store_true", help="2 steps, 2 clips, 1 sample per row; prints, writes nothing"
    )
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    done = {json.loads(line)["name"] for line in RESULTS.read_text().splitlines()} if RESULTS.is_file() else set()
    wanted = [r for r in ROWS if (r.name in args.only.split(",") if args.only else r.name not in done)]
    if args.smoke:
        wanted = [
            r.model_copy(
                update={
                    "steps": 2,
                    "clips_per_semantic": 2,
                    "samples": 1,
                    "batch": 2,
                    "semantics": r.semantics[:2] if r.kind == "code" else r.semantics,
                }
            )
            for r in (ROWS if not args.only else [r for r in ROWS if r.name in args.only.split(",")])
        ]
    for row in wanted:
        print(f"{row.name}: {row.what}", flush=True)
        kinds = {"peft": run_peft, "checkpoint": run_checkpoint, "reader": run_reader, "distill": run_distill}
        run = kinds.get(row.kind, run_code)
        result = run(row)
        record = {**row.model_dump(), **result, "mean_judge": float(np.mean(list(result["judge"].values())))}
        print(
            json.dumps({k: record[k] for k in ("name", "train_seconds", "final_loss", "mean_judge", "judge")}),
            flush=True,
        )
        if args.smoke:
            continue
        lines = [
            line
            for line in (RESULTS.read_text().splitlines() if RESULTS.is_file() else [])
            if json.loads(line)["name"] != row.name
        ]
        write_text_atomic(RESULTS, "\n".join(lines + [json.dumps(record)]) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
