"""A LoRA shared by the whole batch, merged into the weights once per reference, vs no LoRA and vs per-sample factors.

One CogVideoX-5B-shaped transformer block (diffusers' CogVideoXBlock with the 5B dims: 48 heads x 64 = 3072 wide,
time embedding 512, feed-forward 4x, text sequence 226) at batch 2 (CFG: the same LoRA on both samples), fp32 on
CPU. Video tokens: 360, one latent frame of a 240x384 video (30x48 latents in 2x2 patches): what two shared CPU
cores afford; the 5B's own 49-frame 480x720 clip has 17,550, which only changes the attention's share of the time.

- merged: `LightLoRANetwork.set(..., shared=True)`, the path `v2l.inference.generate` takes when every sample
  carries the same LoRA; each wrapped weight becomes W + up @ down once, and the forward is the plain Linear's.
- factors: the same LoRA kept as per-sample factors (merge=False, tiled over the batch), what batch 2 ran before.
- plain: a copy of the block that was never wrapped.
Target (issue 15, section 6): merged / plain at most 1.01 per forward. The merge itself (once per reference) is
timed too, and shown amortised over one 50-step generation of this block.
"""

from __future__ import annotations

import copy
import os
import statistics
import time

import torch
from torch import nn

from benchmarks.common import paired_ratio, write_result
from v2l.config import LoRAConfig
from v2l.lora.lightlora import LightLoRANetwork

DIM, HEADS, HEAD_DIM, TIME_EMBED, TEXT_TOKENS = 3072, 48, 64, 512, 226
VIDEO_TOKENS = int(os.environ.get("V2L_BENCH_VIDEO_TOKENS", 360))
BATCH, STEPS, TARGET = 2, 50, 1.01


def _block() -> nn.Module:
    from diffusers.models.transformers.cogvideox_transformer_3d import CogVideoXBlock

    torch.manual_seed(0)
    holder = nn.Module()
    holder.transformer_blocks = nn.ModuleList(
        [
            CogVideoXBlock(
                dim=DIM,
                num_attention_heads=HEADS,
                attention_head_dim=HEAD_DIM,
                time_embed_dim=TIME_EMBED,
                attention_bias=True,
                activation_fn="gelu-approximate",
                norm_elementwise_affine=True,
                norm_eps=1e-5,
            )
        ]
    )
    return holder.eval()


@torch.no_grad()
def run(rounds: int = 7) -> dict:
    plain_holder = _block()
    holder = copy.deepcopy(plain_holder)
    net = LightLoRANetwork(holder, LoRAConfig())
    cfg = net.cfg
    g = torch.Generator().manual_seed(1)
    A = torch.randn(1, len(net), cfg.r, cfg.a, generator=g) * 0.1  # one reference's LoRA
    B = torch.randn(1, len(net), cfg.b, cfg.r, generator=g) * 0.1
    hidden = torch.randn(BATCH, VIDEO_TOKENS, DIM, generator=g)
    text = torch.randn(BATCH, TEXT_TOKENS, DIM, generator=g)
    temb = torch.randn(BATCH, TIME_EMBED, generator=g)
    block, plain = holder.transformer_blocks[0], plain_holder.transformer_blocks[0]
    forward = lambda: block(hidden, text, temb)  # noqa: E731
    forward_plain = lambda: plain(hidden, text, temb)  # noqa: E731

    merge_times = []
    for _ in range(5):  # the merge, once per reference
        t0 = time.perf_counter()
        net.set(A, B, shared=True)
        merge_times.append(time.perf_counter() - t0)
    assert all(m.shared_weight is not None for m in net.modules_list)
    merged_out = forward()
    merged_ratio, t_merged, t_plain = paired_ratio(forward, forward_plain, rounds=rounds)

    net.set(A.expand(BATCH, -1, -1, -1), B.expand(BATCH, -1, -1, -1), merge=False)  # per-sample factors
    assert all(m.shared_weight is None and m.down is not None for m in net.modules_list)
    factored_out = forward()
    factor_ratio, t_factors, t_plain2 = paired_ratio(forward, forward_plain, rounds=rounds)
    net.clear()
    max_diff = max(float((a - b).abs().max()) for a, b in zip(merged_out, factored_out))
    merge_s = statistics.median(merge_times)
    amortised = (STEPS * t_merged + merge_s) / (STEPS * t_plain)
    result = {
        "shape": {
            "dim": DIM,
            "heads": HEADS,
            "head_dim": HEAD_DIM,
            "time_embed_dim": TIME_EMBED,
            "text_tokens": TEXT_TOKENS,
            "video_tokens": VIDEO_TOKENS,
            "batch": BATCH,
            "dtype": "float32",
            "lora_modules": len(net),
            "lora": {"r": cfg.r, "a": cfg.a, "b": cfg.b, "targets": list(cfg.target_modules)},
        },
        "rounds": rounds,
        "plain_forward_s": t_plain,
        "merged_forward_s": t_merged,
        "factors_forward_s": t_factors,
        "merged_over_plain": merged_ratio,
        "factors_over_plain": factor_ratio,
        "factors_plain_forward_s": t_plain2,
        "merged_over_factors": t_merged / t_factors,
        "merge_once_s": merge_s,
        f"merged_over_plain_{STEPS}_steps_with_merge": amortised,
        "max_abs_diff_merged_vs_factors": max_diff,
        "target_merged_over_plain": TARGET,
        "meets_target": merged_ratio <= TARGET,
    }
    write_result("lora_merge", result)
    return result


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
