"""The hypernetwork: shapes, paper sizes, initial scale, dependence on the reference, position switch."""

import torch

from v2l.config import HypernetConfig
from v2l.hypernet.model import Hypernetwork, paper_heads


def _net(**kw):
    torch.manual_seed(0)
    return Hypernetwork(8, 24, 150, HypernetConfig(**kw)).eval()


def test_output_shape_and_paper_head_rule():
    net = _net()
    out = net(torch.randn(2, 8, 3, 12, 12))
    assert out.shape == (2, 24, 150)
    assert paper_heads(150) == 2 and paper_heads(48) == 1 and paper_heads(512) == 4


def test_every_size_is_configurable():
    torch.manual_seed(0)
    net = Hypernetwork(8, 10, 60, HypernetConfig(width=32, blocks=2, heads=4, iterations=3, ff_mult=2))
    assert net(torch.randn(1, 8, 2, 4, 4)).shape == (1, 10, 60)
    assert len(net.blocks) == 2 and net.blocks[0].self_attn.heads == 4


def test_initial_lora_is_small_and_depends_on_the_reference():
    net = _net()
    a, b = torch.randn(1, 8, 3, 12, 12), torch.randn(1, 8, 3, 12, 12)
    with torch.no_grad():
        wa, wb = net(a), net(b)
    assert wa.abs().mean() < 0.1  # zero-initialised tokens plus std-1e-3 delta projections
    assert (wa - wb).abs().max() > 1e-4


def test_reference_position_switch():
    """Without positions the reference is a set (a token permutation changes nothing); with them it is not."""
    x = torch.randn(1, 8, 3, 12, 12)
    flipped = x.flip(-1)  # a mirrored reference: same tokens, other positions
    with torch.no_grad():
        plain = _net()
        assert torch.allclose(plain(x), plain(flipped), atol=1e-5)
        pos = _net(reference_pos_encoding=True)
        assert (pos(x) - pos(flipped)).abs().max() > 1e-4


def test_iterations_refine_with_shared_weights():
    one, four = _net(iterations=1), _net(iterations=4)
    assert sum(p.numel() for p in one.parameters()) == sum(p.numel() for p in four.parameters())
    x = torch.randn(1, 8, 3, 12, 12)
    with torch.no_grad():
        assert (one(x) - four(x)).abs().max() > 1e-5
