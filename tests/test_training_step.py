"""Training step: only aux + hypernetwork change; the frozen backbone stays bit-identical."""

import random

import torch

from v2l.training.step import Batch, OptimConfig, build_optimizer, drop_captions, training_step


def _snapshot(module):
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def test_optimizer_step_changes_only_aux_and_hypernet(tiny_model):
    m = tiny_model
    bb = m.backbone
    aux_ids = {id(p) for p in m.network.aux_parameters()}
    frozen_before = {
        "transformer": {k: v for k, v in _snapshot(bb.transformer).items() if not k.endswith(("A_aux", "B_aux"))},
        "vae": _snapshot(bb.vae),
        "text_encoder": _snapshot(bb.text_encoder),
    }
    aux_before = [p.detach().clone() for p in m.network.aux_parameters()]
    hyper_before = _snapshot(m.hypernet)
    cfg = OptimConfig(lr=1e-3, caption_dropout=0.5)
    opt = build_optimizer(m, cfg)
    g = torch.Generator().manual_seed(0)
    batch = Batch(
        torch.rand(2, 3, 9, 48, 48, generator=g) * 2 - 1,
        torch.rand(2, 3, 9, 48, 48, generator=g) * 2 - 1,
        ["a photo of a cat", "a red car"],
    )
    stats = training_step(m, batch, opt, cfg, g, random.Random(0))
    assert torch.isfinite(torch.tensor(stats["loss"]))

    for name, before in frozen_before.items():
        after = getattr(bb, name).state_dict()
        for k, v in before.items():
            assert torch.equal(after[k], v), f"frozen {name}.{k} changed"
    assert all(not p.requires_grad for n, p in bb.transformer.named_parameters() if id(p) not in aux_ids)
    assert all(p.grad is None for p in bb.vae.parameters()) and all(
        p.grad is None for p in bb.text_encoder.parameters()
    )
    changed_aux = sum(not torch.equal(a, p) for a, p in zip(aux_before, m.network.aux_parameters()))
    assert changed_aux == len(aux_before), "every aux matrix should get an update"
    hyper_after = m.hypernet.state_dict()
    assert any(not torch.equal(hyper_after[k], v) for k, v in hyper_before.items())
    assert all(p.dtype == torch.float32 for p in m.trainable_parameters()), "master weights stay fp32"


def test_caption_dropout_rate():
    rng = random.Random(0)
    dropped = sum(c == "" for c in drop_captions(["x"] * 10000, 0.1, rng))
    assert 850 < dropped < 1150


def test_loss_depends_on_the_predicted_lora(tiny_model):
    """The diffusion loss must flow through the LoRA: a bigger LoRA changes the loss for the same noise."""
    from v2l.training.step import diffusion_loss

    m = tiny_model
    cfg = OptimConfig(caption_dropout=0.0)
    g = torch.Generator().manual_seed(3)
    batch = Batch(
        torch.rand(1, 3, 9, 48, 48, generator=g) * 2 - 1, torch.rand(1, 3, 9, 48, 48, generator=g) * 2 - 1, ["a cat"]
    )
    with torch.no_grad():
        base = diffusion_loss(m, batch, cfg, torch.Generator().manual_seed(0), random.Random(0))
        for p in m.network.aux_parameters():
            p.mul_(30.0)
        louder = diffusion_loss(m, batch, cfg, torch.Generator().manual_seed(0), random.Random(0))
    assert abs(float(base) - float(louder)) > 1e-4


def _grads_after_one_loss(model, checkpointing: bool) -> tuple[float, list[torch.Tensor]]:
    from v2l.training.step import diffusion_loss

    if checkpointing:
        model.network.enable_gradient_checkpointing(model.backbone.transformer)
    else:
        model.backbone.transformer.disable_gradient_checkpointing()
    model.hypernet.train()
    g = torch.Generator().manual_seed(5)
    batch = Batch(
        torch.rand(2, 3, 9, 48, 48, generator=g) * 2 - 1,
        torch.rand(2, 3, 9, 48, 48, generator=g) * 2 - 1,
        ["a cat", "a red car"],
    )
    for p in model.trainable_parameters():
        p.grad = None
    loss = diffusion_loss(
        model, batch, OptimConfig(caption_dropout=0.0), torch.Generator().manual_seed(1), random.Random(0)
    )
    loss.backward()  # outside `applied()`: the LoRA is cleared, so recomputed blocks must restore it
    return loss.item(), [p.grad.clone() for p in model.trainable_parameters()]


def test_gradient_checkpointing_recomputes_blocks_with_the_applied_lora(tiny_model):
    """Big presets checkpoint activations; the recompute in backward must see the forward's LoRA (diffusers'
    default checkpoint function would recompute bare blocks and fail), giving the plain run's gradients."""
    with torch.no_grad():  # a LoRA big enough to matter, so a recompute without it would change the gradients
        for p in tiny_model.hypernet.delta_proj.parameters():
            p.mul_(50)
    loss_plain, plain = _grads_after_one_loss(tiny_model, checkpointing=False)
    loss_ckpt, ckpt = _grads_after_one_loss(tiny_model, checkpointing=True)
    assert tiny_model.backbone.transformer.is_gradient_checkpointing
    assert loss_ckpt == loss_plain
    assert all(torch.allclose(a, b, rtol=1e-4, atol=1e-7) for a, b in zip(plain, ckpt))
    assert sum(bool(g.abs().sum() > 0) for g in ckpt) == len(ckpt), "every trainable tensor gets a gradient"
    assert all(m.down is None and m.merged is None for m in tiny_model.network.modules_list), "LoRA cleared after"


def test_trainer_turns_on_the_lora_aware_checkpointing():
    """`gradient_checkpointing: true` in a training config must give a backward that works through the LoRA."""
    from pathlib import Path

    from v2l.training.config import load_config
    from v2l.training.step import diffusion_loss
    from v2l.training.trainer import build_model

    config = Path(__file__).resolve().parent / "configs" / "tiny-smoke.yaml"
    model = build_model(load_config(config, gradient_checkpointing=True), torch.device("cpu"))
    assert model.backbone.transformer.is_gradient_checkpointing
    g = torch.Generator().manual_seed(2)
    batch = Batch(
        torch.rand(1, 3, 9, 48, 48, generator=g) * 2 - 1, torch.rand(1, 3, 9, 48, 48, generator=g) * 2 - 1, ["a cat"]
    )
    loss = diffusion_loss(model, batch, OptimConfig(caption_dropout=0.0), g, random.Random(0))
    loss.backward()  # diffusers' default checkpoint function fails here (the recompute sees no LoRA)
    assert all(p.grad is not None for p in model.network.aux_parameters())
