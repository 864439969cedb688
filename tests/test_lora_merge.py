"""A LoRA shared by every sample (one reference under CFG) is merged into the weights once: same results."""

import pytest
import torch
from torch import nn

from v2l.config import LoRAConfig
from v2l.lora.lightlora import MERGE_LIMIT, LightLoRANetwork


def _one_reference(net, seed=1):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(1, len(net), 1, 100, generator=g) * 0.5, torch.randn(1, len(net), 50, 1, generator=g) * 0.5)


def test_shared_merge_equals_per_sample_factors_on_the_cfg_batch(tiny_model, tiny_spec, transformer_inputs):
    """CFG's batch 2 with one reference: merged weights give what the factored, batch-tiled path gives."""
    tr, net = tiny_model.backbone.transformer, tiny_model.network
    A, B = _one_reference(net)
    inputs = transformer_inputs(tiny_spec, 2)
    with torch.no_grad():
        with net.applied(A, B, merge=False):
            assert all(m.shared_weight is None and m.down is not None for m in net.modules_list)
            factored = tr(**inputs)[0]
        with net.applied(A, B, shared=True):
            assert all(m.shared_weight is not None for m in net.modules_list), "inference merges a shared LoRA"
            merged = tr(**inputs)[0]
        base = tr(**inputs)[0]
    torch.testing.assert_close(merged, factored, atol=1e-5, rtol=1e-5)
    assert (merged - base).abs().max() > 1e-3, "the LoRA must change the output, or the comparison proves nothing"
    assert all(m.shared_weight is None and m.down is None for m in net.modules_list), "cleared after the block"


def _block_holder(dim=3072, heads=48):
    """One CogVideoX-5B-shaped block (3072 wide): each attention weight is above MERGE_LIMIT at batch 1."""
    from diffusers.models.transformers.cogvideox_transformer_3d import CogVideoXBlock

    torch.manual_seed(0)
    holder = nn.Module()
    holder.transformer_blocks = nn.ModuleList(
        [
            CogVideoXBlock(
                dim=dim,
                num_attention_heads=heads,
                attention_head_dim=dim // heads,
                time_embed_dim=64,
                attention_bias=True,
                activation_fn="gelu-approximate",
                norm_eps=1e-5,
            )
        ]
    )
    return holder.eval()


def test_shared_merge_on_a_5b_shaped_block_equals_factors():
    holder = _block_holder()
    net = LightLoRANetwork(holder, LoRAConfig())
    assert net.modules_list[0].in_features * net.modules_list[0].out_features > MERGE_LIMIT
    A, B = _one_reference(net, seed=3)
    g = torch.Generator().manual_seed(0)
    hidden, text = torch.randn(2, 12, 3072, generator=g), torch.randn(2, 4, 3072, generator=g)
    temb = torch.randn(2, 64, generator=g)
    block = holder.transformer_blocks[0]
    with torch.no_grad():
        with net.applied(A, B):  # not said to be shared: large layers keep their factors
            assert all(m.shared_weight is None and m.merged is None for m in net.modules_list)
            factored = block(hidden, text, temb)
        with net.applied(A, B, shared=True):
            merged = block(hidden, text, temb)
        base = block(hidden, text, temb)
    for got, want, plain in zip(merged, factored, base):
        torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-5)
    assert (merged[0] - base[0]).abs().max() > 1e-3


def test_shared_lora_keeps_factors_when_training(tiny_model):
    net = tiny_model.network
    A, B = _one_reference(net)
    A.requires_grad_(True)
    with net.applied(A, B, shared=True):
        assert all(m.shared_weight is None and m.down is not None for m in net.modules_list)


def test_shared_needs_one_reference(tiny_model):
    net = tiny_model.network
    A, B = _one_reference(net)
    with pytest.raises(ValueError, match="batch 1"):
        net.set(A.repeat(2, 1, 1, 1), B.repeat(2, 1, 1, 1), shared=True)


def test_generate_merges_one_reference(tiny_model, tiny_spec):
    """`generate` with one reference for the whole CFG batch uses the merged path and matches the factored one."""
    from v2l.inference.generate import sample

    A, B = _one_reference(tiny_model.network)
    image = torch.rand(1, 3, tiny_spec.height, tiny_spec.width) * 2 - 1
    seen = []
    orig = tiny_model.network.set

    def spy(*args, **kwargs):
        orig(*args, **kwargs)
        seen.append(all(m.shared_weight is not None for m in tiny_model.network.modules_list))

    from v2l.inference.generate import generate

    tiny_model.network.set = spy
    merged = generate(tiny_model, image, ["a cup of coffee on a table"], A, B, num_frames=9, steps=2, guidance=2.0)
    tiny_model.network.set = orig
    assert seen == [True]
    with torch.no_grad(), tiny_model.network.applied(A, B, merge=False):
        factored = sample(tiny_model.backbone, image, ["a cup of coffee on a table"], 9, 2, 2.0, 0)
    # The transformer outputs agree to 1e-5 (tests above); two denoising steps and the VAE decoder carry ~1e-5
    # rounding differences into a few pixels, a wrong LoRA would move them by ~1e-2.
    torch.testing.assert_close(merged, factored, atol=5e-5, rtol=1e-4)
