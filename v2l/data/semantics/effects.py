"""Effect semantics: the content itself changes (tears apart, melts, bulges, fades, blurs).

Where content leaves the frame the background is black. Time t runs 0 -> 1 over the clip, so frame 0 is
always the untouched base crop.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from v2l.data.semantics.registry import register
from v2l.data.semantics.view import rotation


def _per_frame(x: torch.Tensor) -> torch.Tensor:
    return x[:, None, None, None]


@register("dissolve", "effect", "pixels vanish to black one by one in random order", amount=(0.85, 1.0))
def dissolve(view, p, rng):
    order = torch.from_numpy(rng.uniform(0, 1, size=(view.height, view.width))).float()
    keep = (order[None, None] >= _per_frame(view.t * p["amount"])).float()
    keep[0] = 1.0
    return view.base() * keep


@register(
    "explode",
    "effect",
    "the picture breaks into tiles that fly outward from the centre",
    tiles=(2, 4, "int"),
    speed=(0.5, 0.9),
)
def explode(view, p, rng):
    g = int(p["tiles"])
    edges = torch.linspace(-1, 1, g + 1)
    ident = view.identity()
    out = torch.zeros(view.num_frames, 3, view.height, view.width)
    for i in range(g):
        for j in range(g):
            cx, cy = float(edges[j] + edges[j + 1]) / 2, float(edges[i] + edges[i + 1]) / 2
            norm = math.hypot(cx, cy)
            if norm < 1e-6:  # the centre tile of an odd grid flies off in a random direction
                a = rng.uniform(0, 2 * math.pi)
                cx, cy, norm = math.cos(a), math.sin(a), 1.0
            jitter = rng.uniform(0.8, 1.2)
            off = torch.stack([cx / norm * view.t, cy / norm * view.t], -1) * p["speed"] * jitter  # (F, 2)
            coords = ident - off[:, None, None, :]
            inside = (
                (coords[..., 0] >= edges[j])
                & (coords[..., 0] <= edges[j + 1])
                & (coords[..., 1] >= edges[i])
                & (coords[..., 1] <= edges[i + 1])
            )[:, None]
            out = torch.where(inside, view.sample(coords), out)
    return out


@register("melt", "effect", "the picture drips downward, some columns faster than others", amount=(0.5, 0.9))
def melt(view, p, rng):
    knots = rng.uniform(0.4, 1.0, size=6)
    profile = torch.from_numpy(np.interp(np.linspace(0, 5, view.width), np.arange(6), knots)).float()
    coords = view.identity()
    coords[..., 1] -= _per_frame(view.t**1.5 * p["amount"])[..., 0] * profile[None, None, :]
    return view.sample(coords, outside="black")


@register("squish", "effect", "the picture is squashed down towards the bottom edge", amount=(0.3, 0.5))
def squish(view, p, rng):
    s = 1 - view.t * p["amount"]
    coords = view.identity()
    coords[..., 1] = 1 - (1 - coords[..., 1]) / s[:, None, None]
    return view.sample(coords, outside="black")


@register("inflate", "effect", "the middle of the picture bulges outward like a balloon", amount=(0.35, 0.5))
def inflate(view, p, rng):
    coords = view.identity()
    r2 = (coords**2).sum(-1, keepdim=True)
    shrink = 1 - view.t[:, None, None, None] * p["amount"] * torch.exp(-2 * r2)
    return view.sample(coords * shrink)


@register(
    "swirl",
    "effect",
    "the middle of the picture twists round while the edges stay put",
    degrees=(70.0, 120.0),
    direction=(0, 1, "int"),
)
def swirl(view, p, rng):
    coords = view.identity()
    r2 = (coords**2).sum(-1)
    s = 1.0 if p["direction"] >= 1 else -1.0
    angle = s * math.radians(p["degrees"]) * view.t[:, None, None] * torch.exp(-r2 / 0.35)
    c, si = torch.cos(angle), torch.sin(angle)
    x, y = coords[..., 0], coords[..., 1]
    return view.sample(torch.stack([c * x - si * y, si * x + c * y], -1))


@register("fade_black", "effect", "the picture fades to black", amount=(0.85, 1.0))
def fade_black(view, p, rng):
    return view.base() * (1 - _per_frame(view.t * p["amount"]))


@register("fade_white", "effect", "the picture fades to white", amount=(0.85, 1.0))
def fade_white(view, p, rng):
    base = view.base()
    return base + (1 - base) * _per_frame(view.t * p["amount"])


@register(
    "wipe",
    "effect",
    "a black curtain sweeps across the picture from one side (random side)",
    amount=(0.85, 1.0),
    side=(0, 1, "int"),
)
def wipe(view, p, rng):
    x = view.identity()[..., 0]  # (F, H, W) in [-1, 1], left to right
    x = x if p["side"] >= 1 else -x
    edge = 2 * _per_frame(view.t * p["amount"])[:, 0] - 1  # the curtain's edge moves from -1 to about +1
    covered = (x < edge).float()
    covered[0] = 0.0
    return view.base() * (1 - covered[:, None])


@register("blur", "effect", "the picture goes out of focus", sigma=(1.5, 3.0))
def blur(view, p, rng):
    base = view.base()
    frames = [base[0]]
    for t in view.t[1:].tolist():
        frames.append(_gaussian(base[:1], max(t * p["sigma"], 1e-3))[0])
    return torch.stack(frames)


def _gaussian(x: torch.Tensor, sigma: float) -> torch.Tensor:
    radius = max(1, int(math.ceil(3 * sigma)))
    k = torch.exp(-(torch.arange(-radius, radius + 1).float() ** 2) / (2 * sigma**2))
    k = (k / k.sum()).to(x.dtype)
    c = x.shape[1]
    x = F.pad(x, (radius, radius, 0, 0), mode="reflect" if radius < x.shape[-1] else "replicate")
    x = F.conv2d(x, k.view(1, 1, 1, -1).repeat(c, 1, 1, 1), groups=c)
    x = F.pad(x, (0, 0, radius, radius), mode="reflect" if radius < x.shape[-2] else "replicate")
    return F.conv2d(x, k.view(1, 1, -1, 1).repeat(c, 1, 1, 1), groups=c)


@register(
    "ripple",
    "effect",
    "horizontal waves run down the picture, growing stronger",
    amplitude=(0.08, 0.14),
    cycles=(1.0, 2.0),
)
def ripple(view, p, rng):
    coords = view.identity()
    phase = rng.uniform(0, 2 * math.pi)
    t = view.t[:, None, None]
    wave = torch.sin(2 * math.pi * p["cycles"] * coords[..., 1] * 0.5 + phase + 2 * math.pi * t)
    coords[..., 0] += p["amplitude"] * t * wave
    return view.sample(coords)


__all__ = ["rotation"]
