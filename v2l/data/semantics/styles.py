"""Style semantics: the colours of a still picture change step by step into a look (sepia, sketch, ...).

Frame t is blend(base, style(base), t ** gamma): frame 0 is the base crop, the last frame is exactly the
style, and gamma varies how quickly it arrives.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from v2l.data.semantics.registry import register

GAMMA = (0.7, 1.4)
LUMA = torch.tensor([0.299, 0.587, 0.114])


def _ramp(view, p, styled_last: torch.Tensor) -> torch.Tensor:
    base = view.base()
    a = (view.t ** p["gamma"])[:, None, None, None]
    return base * (1 - a) + styled_last[None] * a


def _luma(x: torch.Tensor) -> torch.Tensor:
    """(3, H, W) -> (1, H, W)."""
    return (x * LUMA[:, None, None]).sum(0, keepdim=True)


@register("posterize", "style", "colours are reduced to a few flat levels", levels=(2, 4, "int"), gamma=GAMMA)
def posterize(view, p, rng):
    n = p["levels"] - 1
    return _ramp(view, p, torch.round(view.base()[0] * n) / n)


@register("sketch", "style", "the picture becomes a grey pencil sketch of its edges", strength=(1.5, 2.5), gamma=GAMMA)
def sketch(view, p, rng):
    y = _luma(view.base()[0])[None]
    kx = torch.tensor([[-1.0, 0, 1], [-2, 0, 2], [-1, 0, 1]]).view(1, 1, 3, 3) / 4
    yp = F.pad(y, (1, 1, 1, 1), mode="replicate")
    edges = torch.sqrt(F.conv2d(yp, kx) ** 2 + F.conv2d(yp, kx.transpose(2, 3)) ** 2)
    paper = (1 - (edges * p["strength"]).clamp(0, 1))[0]
    return _ramp(view, p, paper.expand(3, -1, -1))


@register("sepia", "style", "the picture turns brownish like an old photograph", gamma=GAMMA)
def sepia(view, p, rng):
    m = torch.tensor([[0.393, 0.769, 0.189], [0.349, 0.686, 0.168], [0.272, 0.534, 0.131]])
    x = view.base()[0]
    return _ramp(view, p, torch.einsum("ij,jhw->ihw", m, x).clamp(0, 1))


@register("pixelate", "style", "the picture turns into large square blocks", block=(4, 8, "int"), gamma=GAMMA)
def pixelate(view, p, rng):
    b = int(p["block"])
    x = view.base()[:1]
    h, w = x.shape[-2:]
    small = F.avg_pool2d(x, b, stride=b, ceil_mode=True)
    big = small.repeat_interleave(b, -2).repeat_interleave(b, -1)[..., :h, :w]
    return _ramp(view, p, big[0])


@register("hue_cycle", "style", "all colours shift round the colour wheel", degrees=(90.0, 270.0), gamma=GAMMA)
def hue_cycle(view, p, rng):
    return _ramp(view, p, rotate_hue(view.base()[0], math.radians(p["degrees"])))


def rotate_hue(x: torch.Tensor, angle: float) -> torch.Tensor:
    """Rotate hue in YIQ space (keeps luma): (3, H, W) in [0, 1]."""
    to_yiq = torch.tensor([[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]])
    c, s = math.cos(angle), math.sin(angle)
    rot = torch.tensor([[1.0, 0, 0], [0, c, -s], [0, s, c]])
    m = torch.linalg.inv(to_yiq) @ rot @ to_yiq
    return torch.einsum("ij,jhw->ihw", m, x).clamp(0, 1)


@register("grayscale", "style", "the colours drain away to black and white greys", gamma=GAMMA)
def grayscale(view, p, rng):
    return _ramp(view, p, _luma(view.base()[0]).expand(3, -1, -1))


@register("invert", "style", "the picture turns into its photographic negative", gamma=GAMMA)
def invert(view, p, rng):
    return _ramp(view, p, 1 - view.base()[0])


@register("vivid", "style", "colours become much more saturated", boost=(1.8, 2.6), gamma=GAMMA)
def vivid(view, p, rng):
    x = view.base()[0]
    y = _luma(x)
    return _ramp(view, p, (y + (x - y) * p["boost"]).clamp(0, 1))


@register(
    "solarize",
    "style",
    "bright parts of the picture turn negative, as in an over-exposed print",
    threshold=(0.4, 0.6),
    gamma=GAMMA,
)
def solarize(view, p, rng):
    x = view.base()[0]
    return _ramp(view, p, torch.where(x > p["threshold"], 1 - x, x))
