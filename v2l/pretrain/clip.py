"""`v2l pretrain clip`: contrastive training of the tiny CLIP on frames and content captions of the corpus.

Frames come from every semantic (so embeddings are about content, whatever happens to it); retrieval is
measured caption-to-frame on held-out content only.

With 58 distinct training captions the model memorises them long before the budget ends (a 40-minute run
scored far worse on held-out content than a 15-minute one), so `dev_procedural` training items can be set
aside as a dev set: retrieval on them is measured every `select_every` steps and the best weights are kept.
The held-out content plays no part in that choice.

`extra_procedural` adds procedural scenes from a separate seed stream (CLIP only: the backbone's world is
unchanged), so colour and pattern words are seen in many combinations; scenes whose caption equals a held-out
caption are dropped, so every held-out caption stays unseen in training.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from pydantic import BaseModel, ConfigDict

from v2l.data.content.builtin import render_builtin
from v2l.data.content.procedural import procedural_inputs
from v2l.errors import V2LError
from v2l.evaluation.clip_model import TinyClip
from v2l.evaluation.clip_retrieval import retrieval_top1
from v2l.training.loop import LoopConfig, run_loop
from v2l.video.pixels import to_float, to_uint8
from v2l.world.sampler import ClipSampler, Content, WorldConfig, load_content, semantics_for
from v2l.world.version import data_version

log = logging.getLogger(__name__)


class ClipPretrainConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    loop: LoopConfig = LoopConfig(minutes=15.0, lr=1e-3, warmup_steps=100, weight_decay=0.1)
    world: WorldConfig = WorldConfig()
    batch: int = 64
    pool_clips: int = 4096
    eval_frames_per_item: int = 4
    dev_procedural: int = 0  # the last N training procedural items become a dev set for model selection
    select_every: int = 500
    dev_frames_per_item: int = 8
    extra_procedural: int = 0  # procedural scenes beyond the world's content, for caption variety


class BestWeights:
    """The best-scoring weights seen so far (a copy), with their score and step; checkpointable."""

    def __init__(self) -> None:
        self.score, self.step, self.last, self.weights = -1.0, 0, -1.0, None

    def offer(self, score: float, step: int, module: torch.nn.Module) -> None:
        self.last = score
        if score > self.score:  # ties keep the earlier weights
            self.score, self.step = score, step
            self.weights = {k: v.detach().clone() for k, v in module.state_dict().items()}

    def restore(self, module: torch.nn.Module) -> None:
        module.load_state_dict(self.weights)

    def state(self) -> dict:
        return {"score": self.score, "step": self.step, "weights": self.weights}

    def load_state(self, state: dict | None) -> None:
        if state:
            self.score, self.step, self.weights = state["score"], state["step"], state["weights"]


def split_dev(train: list, dev_procedural: int) -> tuple[list, list]:
    """(training items, dev items): the last `dev_procedural` procedural training items form the dev set."""
    procedural = [i for i, c in enumerate(train) if c.id.startswith("proc-")]
    if dev_procedural >= len(procedural):
        raise V2LError(
            f"--dev-procedural {dev_procedural} leaves no procedural training content "
            f"(there are {len(procedural)}); pass a smaller number"
        )
    dev = set(procedural[len(procedural) - dev_procedural :]) if dev_procedural else set()
    return [c for i, c in enumerate(train) if i not in dev], [c for i, c in enumerate(train) if i in dev]


EXTRA_PROCEDURAL_SEED = 1  # the world's procedural content uses seed 0: a disjoint stream


def extra_procedural_content(world: WorldConfig, count: int, exclude_captions: set[str]) -> list[Content]:
    """`count` procedural scenes drawn for CLIP training only, minus any whose caption is in `exclude_captions`."""

    return [
        Content(f"extra-{item.id_hint}", item.caption, render_builtin(item.builtin, world.source_size))
        for item in procedural_inputs(count, seed=EXTRA_PROCEDURAL_SEED)
        if item.caption not in exclude_captions
    ]


@torch.no_grad()
def sample_frame_pool(world: WorldConfig, content: list, count: int, seed: int) -> tuple[torch.Tensor, list[str]]:
    """One random frame (uint8, N x 3 x H x W) of each of `count` rendered clips (rounded up to whole batches of
    64) of every semantic on `content`, with their captions: the (frame, caption) pairs the CLIPs train on."""
    sampler = ClipSampler(world, content, semantics_for("all"), seed=seed)
    frames, captions = [], []
    for _ in range(0, count, 64):
        x, cap, _ = sampler.batch(64)
        pick = torch.from_numpy(sampler.rng.integers(0, x.shape[2], len(x)))
        frames.append(to_uint8(x[torch.arange(len(x)), :, pick]))
        captions += cap
    return torch.cat(frames), captions


def pretrain_clip(out_dir: str | Path, cfg: ClipPretrainConfig | None = None) -> dict:
    cfg = cfg or ClipPretrainConfig()
    torch.set_num_threads(cfg.loop.threads)  # also for building the data pools, not just the loop
    out_dir = Path(out_dir)
    torch.manual_seed(cfg.loop.seed)
    clip = TinyClip()
    content = load_content(cfg.world)
    train_content, dev_content = split_dev(content["train"], cfg.dev_procedural)
    heldout_captions = {c.caption for c in content["heldout"]}
    extra = extra_procedural_content(
        cfg.world, cfg.extra_procedural, heldout_captions | {c.caption for c in dev_content}
    )
    train_content = train_content + extra
    frames, captions = sample_frame_pool(cfg.world, train_content, cfg.pool_clips, cfg.loop.seed + 11)
    unique = sorted(set(captions))
    tokens = clip.tokenize(unique)
    cap_index = torch.tensor([unique.index(c) for c in captions])
    order = np.random.default_rng(cfg.loop.seed)
    best = BestWeights()

    def select(step: int) -> None:
        """Dev retrieval (both directions, averaged); keep a copy of the best weights so far."""
        clip.eval()
        r = retrieval_top1(clip, dev_content, cfg.world, cfg.dev_frames_per_item, 42_000)
        best.offer((r["caption_to_frame_top1"] + r["frame_to_caption_top1"]) / 2, step, clip.model)
        log.info(f"step {step}: dev retrieval {best.last:.3f} (best {best.score:.3f} at step {best.step})")

    def step_fn(step: int) -> dict[str, float]:
        if dev_content and step > 0 and step % cfg.select_every == 0:
            select(step)
        clip.train()
        idx = torch.from_numpy(order.integers(0, len(frames), cfg.batch))
        # One frame per distinct caption in the batch, so no positive is ever treated as a negative.
        caps = cap_index[idx]
        keep = torch.tensor([int((caps[:i] == caps[i]).sum()) == 0 for i in range(len(caps))])
        idx, caps = idx[keep], caps[keep]
        with torch.autocast("cpu", dtype=torch.bfloat16):
            img = F.normalize(clip.model.encode_image(to_float(frames[idx])), dim=-1)
            txt = F.normalize(clip.model.encode_text(tokens[caps]), dim=-1)
        logits = clip.model.logit_scale.exp() * img.float() @ txt.float().T
        target = torch.arange(len(idx))
        loss = (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target)) / 2
        loss.backward()
        return {"loss": loss.item()}

    result = run_loop(
        out_dir,
        cfg.loop,
        list(clip.model.parameters()),
        step_fn,
        save_weights=lambda d: clip.save(d / "clip"),
        load_weights=lambda d: clip.model.load_state_dict(TinyClip.load(d / "clip").model.state_dict()),
        extra_state=lambda: {"order": order.bit_generator.state, "best": best.state()},
        load_extra_state=lambda s: (setattr(order.bit_generator, "state", s["order"]), best.load_state(s.get("best"))),
    )
    clip.eval()
    selection = {}
    if dev_content:
        select(result["steps"])
        best.restore(clip.model)
        clip.eval()
        selection = {
            "selected_step": best.step,
            "dev_retrieval_top1": best.score,
            "dev_items": len(dev_content),
            "train_items": len(train_content),
        }
    metrics = {
        "heldout_" + k: v
        for k, v in retrieval_top1(clip, content["heldout"], cfg.world, cfg.eval_frames_per_item, 40_000).items()
    }
    metrics["train_" + "caption_to_frame_top1"] = retrieval_top1(clip, train_content, cfg.world, 1, 41_000)[
        "caption_to_frame_top1"
    ]
    metrics.update(selection)
    metrics.update({"extra_procedural_items": len(extra), "train_captions": len({c.caption for c in train_content})})
    clip.save(out_dir / "model" / "clip")
    return {
        "metrics": metrics,
        "minutes": result["minutes"],
        "steps": result["steps"],
        "data_version": data_version(cfg.world) + (f"+extra-procedural-{cfg.extra_procedural}" if extra else ""),
    }
