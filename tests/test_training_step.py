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
    batch = Batch(torch.rand(2, 3, 9, 48, 48, generator=g) * 2 - 1, torch.rand(2, 3, 9, 48, 48, generator=g) * 2 - 1,
                  ["a photo of a cat", "a red car"])
    stats = training_step(m, batch, opt, cfg, g, random.Random(0))
    assert torch.isfinite(torch.tensor(stats["loss"]))

    for name, before in frozen_before.items():
        after = getattr(bb, name).state_dict()
        for k, v in before.items():
            assert torch.equal(after[k], v), f"frozen {name}.{k} changed"
    assert all(not p.requires_grad for n, p in bb.transformer.named_parameters() if id(p) not in aux_ids)
    assert all(p.grad is None for p in bb.vae.parameters()) and all(p.grad is None for p in bb.text_encoder.parameters())
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
    batch = Batch(torch.rand(1, 3, 9, 48, 48, generator=g) * 2 - 1, torch.rand(1, 3, 9, 48, 48, generator=g) * 2 - 1,
                  ["a cat"])
    with torch.no_grad():
        base = diffusion_loss(m, batch, cfg, torch.Generator().manual_seed(0), random.Random(0))
        for p in m.network.aux_parameters():
            p.mul_(30.0)
        louder = diffusion_loss(m, batch, cfg, torch.Generator().manual_seed(0), random.Random(0))
    assert abs(float(base) - float(louder)) > 1e-4
