"""LightLoRA injection overhead: transformer forward with per-sample LoRAs / plain forward, batch 4.

Targets (issue 2): at most 1.03 on the tiny preset, 1.02 on one CogVideoX-5B-shaped block (3072 wide).
"""

from __future__ import annotations

import torch
from torch import nn

from benchmarks.common import paired_ratio, write_result
from v2l.config import LoRAConfig
from v2l.lora.lightlora import LightLoRANetwork

BATCH = 4


def _random_lora(net: LightLoRANetwork, batch: int):
    cfg = net.cfg
    return torch.randn(batch, len(net), cfg.r, cfg.a) * 0.1, torch.randn(batch, len(net), cfg.b, cfg.r) * 0.1


@torch.no_grad()
def tiny() -> dict:
    from v2l.backbones import get_spec

    spec = get_spec("tiny")
    plain = spec.random_init().transformer
    wrapped = spec.random_init().transformer
    net = LightLoRANetwork(wrapped, LoRAConfig())
    cfg = spec.transformer_config
    g = torch.Generator().manual_seed(0)
    kw = dict(
        hidden_states=torch.randn(BATCH, 3, cfg["in_channels"], 12, 12, generator=g),
        encoder_hidden_states=torch.randn(BATCH, cfg["max_text_seq_length"], cfg["text_embed_dim"], generator=g),
        timestep=torch.randint(0, 1000, (BATCH,), generator=g),
        return_dict=False,
    )
    A, B = _random_lora(net, BATCH)
    net.set(A, B)
    ratio, t_lora, t_plain = paired_ratio(lambda: wrapped(**kw), lambda: plain(**kw), rounds=41)
    net.clear()
    return {
        "ratio": ratio,
        "lora_s": t_lora,
        "plain_s": t_plain,
        "target": 1.03,
        "meets_target": ratio <= 1.03,
        "tokens_per_sample": cfg["max_text_seq_length"] + 3 * 6 * 6,
        "modules": len(net),
    }


@torch.no_grad()
def block_5b(video_tokens: int = 64, text_tokens: int = 16) -> dict:
    from diffusers.models.transformers.cogvideox_transformer_3d import CogVideoXBlock

    def make():
        torch.manual_seed(0)
        holder = nn.Module()
        holder.transformer_blocks = nn.ModuleList(
            [
                CogVideoXBlock(
                    dim=3072,
                    num_attention_heads=48,
                    attention_head_dim=64,
                    time_embed_dim=512,
                    attention_bias=True,
                    activation_fn="gelu-approximate",
                    norm_eps=1e-5,
                )
            ]
        )
        return holder.eval()

    plain, wrapped = make(), make()
    net = LightLoRANetwork(wrapped, LoRAConfig())
    g = torch.Generator().manual_seed(0)
    hidden = torch.randn(BATCH, video_tokens, 3072, generator=g)
    text = torch.randn(BATCH, text_tokens, 3072, generator=g)
    temb = torch.randn(BATCH, 512, generator=g)
    A, B = _random_lora(net, BATCH)
    net.set(A, B)
    ratio, t_lora, t_plain = paired_ratio(
        lambda: wrapped.transformer_blocks[0](hidden, text, temb),
        lambda: plain.transformer_blocks[0](hidden, text, temb),
        rounds=9,
    )
    net.clear()
    return {
        "ratio": ratio,
        "lora_s": t_lora,
        "plain_s": t_plain,
        "target": 1.02,
        "meets_target": ratio <= 1.02,
        "tokens_per_sample": video_tokens + text_tokens,
        "modules": len(net),
    }


def run() -> dict:
    result = {"batch": BATCH, "tiny": tiny(), "cogvideox_5b_block": block_5b()}
    write_result("lora_overhead", result)
    return result


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
