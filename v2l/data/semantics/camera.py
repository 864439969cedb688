"""Camera semantics: the window moves over the content (pans, zooms, rolls, shake, orbit, spiral).

Directions are the camera's: "pan_right" moves the camera right, so the content slides left on screen.
Distances are in output half-widths over the whole clip; time t runs 0 -> 1 from first to last frame.
"""

from __future__ import annotations

import math

import torch

from v2l.data.semantics.registry import register
from v2l.data.semantics.view import rotation


def _shift(view, dx: torch.Tensor, dy: torch.Tensor) -> torch.Tensor:
    coords = view.identity()
    coords[..., 0] += dx[:, None, None]
    coords[..., 1] += dy[:, None, None]
    return view.sample(coords)


@register("pan_left", "camera", "camera pans left: the content slides right", distance=(0.35, 0.6))
def pan_left(view, p, rng):
    t = view.t
    return _shift(view, -p["distance"] * t, 0 * t)


@register("pan_right", "camera", "camera pans right: the content slides left", distance=(0.35, 0.6))
def pan_right(view, p, rng):
    t = view.t
    return _shift(view, p["distance"] * t, 0 * t)


@register("pan_up", "camera", "camera tilts up: the content slides down", distance=(0.35, 0.6))
def pan_up(view, p, rng):
    t = view.t
    return _shift(view, 0 * t, -p["distance"] * t)


@register("pan_down", "camera", "camera tilts down: the content slides up", distance=(0.35, 0.6))
def pan_down(view, p, rng):
    t = view.t
    return _shift(view, 0 * t, p["distance"] * t)


@register(
    "pan_diagonal",
    "camera",
    "camera moves diagonally (up-right or down-left, random): content slides the opposite way",
    distance=(0.35, 0.6),
    sign=(0, 1, "int"),
)
def pan_diagonal(view, p, rng):
    t = view.t
    s = 1.0 if p["sign"] >= 1 else -1.0
    d = s * p["distance"] * t / math.sqrt(2)
    return _shift(view, d, -d)


@register(
    "pan_antidiagonal",
    "camera",
    "camera moves along the other diagonal (down-right or up-left, random): content slides the opposite way",
    distance=(0.35, 0.6),
    sign=(0, 1, "int"),
)
def pan_antidiagonal(view, p, rng):
    t = view.t
    s = 1.0 if p["sign"] >= 1 else -1.0
    d = s * p["distance"] * t / math.sqrt(2)
    return _shift(view, d, d)


@register("zoom_in", "camera", "camera zooms in: the content grows from the centre", factor=(1.3, 1.7))
def zoom_in(view, p, rng):
    scale = p["factor"] ** (-view.t)
    return view.sample(view.identity() * scale[:, None, None, None])


@register("zoom_out", "camera", "camera zooms out: the content shrinks towards the centre", factor=(1.3, 1.7))
def zoom_out(view, p, rng):
    scale = p["factor"] ** view.t
    return view.sample(view.identity() * scale[:, None, None, None])


@register(
    "zoom_bounce",
    "camera",
    "camera zooms in and back out: the content grows, then returns to its size",
    factor=(1.4, 1.8),
)
def zoom_bounce(view, p, rng):
    scale = p["factor"] ** (-torch.sin(math.pi * view.t))
    return view.sample(view.identity() * scale[:, None, None, None])


@register("rotate_cw", "camera", "camera rolls: the content turns clockwise about the centre", degrees=(25.0, 45.0))
def rotate_cw(view, p, rng):
    return view.sample(rotation(view.identity(), -math.radians(p["degrees"]) * view.t))


@register(
    "rotate_ccw", "camera", "camera rolls: the content turns counter-clockwise about the centre", degrees=(25.0, 45.0)
)
def rotate_ccw(view, p, rng):
    return view.sample(rotation(view.identity(), math.radians(p["degrees"]) * view.t))


@register("shake", "camera", "handheld shake: small random jumps of the view every frame", amplitude=(0.08, 0.16))
def shake(view, p, rng):
    jitter = torch.from_numpy(rng.uniform(-1, 1, size=(view.num_frames, 2))).float() * p["amplitude"]
    jitter[0] = 0.0  # frame 0 stays the base crop
    return _shift(view, jitter[:, 0], jitter[:, 1])


@register(
    "orbit",
    "camera",
    "camera circles once: the content moves round a loop and comes back",
    radius=(0.2, 0.35),
    direction=(0, 1, "int"),
)
def orbit(view, p, rng):
    s = 1.0 if p["direction"] >= 1 else -1.0
    a = 2 * math.pi * view.t
    return _shift(view, p["radius"] * (torch.cos(a) - 1), s * p["radius"] * torch.sin(a))


@register(
    "spiral_in",
    "camera",
    "camera zooms in while rolling: the content grows and turns clockwise",
    factor=(1.3, 1.6),
    degrees=(25.0, 40.0),
)
def spiral_in(view, p, rng):
    scale = p["factor"] ** (-view.t)
    coords = rotation(view.identity(), -math.radians(p["degrees"]) * view.t) * scale[:, None, None, None]
    return view.sample(coords)
