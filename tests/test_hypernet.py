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


def test_motion_features_find_where_the_content_moved():
    """A latent pattern rolled one cell right per latent frame peaks at shift (0, +1) away from the borders; the
    same pattern rolled left peaks at (0, -1). A uniform brightness change (all channels scaled) changes nothing."""
    from v2l.hypernet.model import motion_features

    torch.manual_seed(0)
    base = torch.randn(1, 8, 1, 12, 12)
    right = torch.cat([base.roll(k, dims=-1) for k in range(3)], dim=2)
    left = torch.cat([base.roll(-k, dims=-1) for k in range(3)], dim=2)
    r = 2
    shifts = [(dy, dx) for dy in range(-r, r + 1) for dx in range(-r, r + 1)]
    for clip, want in ((right, (0, 1)), (left, (0, -1))):  # frame t at x is frame t+1 at x + shift
        vol = motion_features(clip, r).view(1, 3, 12, 12, len(shifts))
        inner = vol[0, :2, 3:-3, 3:-3].mean((0, 1, 2))
        assert shifts[int(inner.argmax())] == want
        assert torch.allclose(inner.max(), torch.tensor(1.0), atol=1e-5)
    assert torch.allclose(motion_features(right * 3.0, r), motion_features(right, r), atol=1e-5)
    assert motion_features(right[:, :, :1], r).abs().sum() == 0  # one latent frame: no motion to read


def test_reference_motion_reads_direction():
    """With the cost volume a pan and the same pan reversed are different references even without positions."""
    torch.manual_seed(0)
    base = torch.randn(1, 8, 1, 12, 12)
    right = torch.cat([base.roll(k, dims=-1) for k in range(3)], dim=2)
    left = right.flip(2)  # the same frames in reverse order: the content moves the other way
    with torch.no_grad():
        assert torch.allclose(_net()(right), _net()(left), atol=1e-5)  # a set of tokens: order is invisible
        motion = _net(reference_motion=2)
        assert (motion(right) - motion(left)).abs().max() > 1e-4
