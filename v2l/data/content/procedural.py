"""Procedural scenes (stripes, checkerboards, circles, gradients, shapes, dots, waves, noise) for variety.

Each scene is drawn from a seed, so the same seed gives the same pixels, and its caption names what is drawn.
Every scene has texture in both directions, so camera moves stay visible on it.
"""

from __future__ import annotations

import numpy as np

from v2l.data.content.item import RawInput

COLOURS = {
    "red": (210, 40, 40),
    "green": (40, 170, 60),
    "blue": (40, 80, 210),
    "yellow": (235, 210, 40),
    "orange": (240, 140, 30),
    "purple": (130, 50, 170),
    "pink": (240, 130, 180),
    "white": (245, 245, 245),
    "black": (15, 15, 15),
    "grey": (128, 128, 128),
    "brown": (120, 75, 40),
}
KINDS = ("stripes", "checkerboard", "circles", "gradient", "shapes", "dots", "waves", "noise")


def _two_colours(rng) -> tuple[str, str]:
    names = sorted(COLOURS)
    a, b = rng.choice(len(names), size=2, replace=False)
    return names[a], names[b]


def _grid(size):
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64) / size
    return yy, xx


def _mix(mask: np.ndarray, a: str, b: str) -> np.ndarray:
    ca, cb = np.array(COLOURS[a], float), np.array(COLOURS[b], float)
    return mask[..., None] * ca + (1 - mask[..., None]) * cb


def draw(kind: str, seed: int, size: int) -> tuple[np.ndarray, str]:
    """uint8 (size, size, 3) and its caption."""
    rng = np.random.default_rng(seed)
    yy, xx = _grid(size)
    a, b = _two_colours(rng)
    if kind == "stripes":
        ang = rng.uniform(0, np.pi)
        freq = rng.uniform(5, 10)
        mask = (np.sin(2 * np.pi * freq * (np.cos(ang) * xx + np.sin(ang) * yy)) > 0).astype(float)
        # A second, fainter set across the first, so motion along the stripes is visible too.
        img = (
            _mix(mask, a, b)
            * (0.85 + 0.15 * (np.sin(2 * np.pi * 3 * (np.sin(ang) * xx - np.cos(ang) * yy)) > 0))[..., None]
        )
        caption = f"{a} and {b} stripes"
    elif kind == "checkerboard":
        n = int(rng.integers(5, 10))
        mask = ((np.floor(xx * n) + np.floor(yy * n)) % 2).astype(float)
        img = _mix(mask, a, b)
        caption = f"a {a} and {b} checkerboard"
    elif kind == "circles":
        img = _mix(np.zeros_like(xx), a, b)
        names = sorted(COLOURS)
        for _ in range(int(rng.integers(8, 16))):
            cx, cy, r = rng.uniform(0, 1), rng.uniform(0, 1), rng.uniform(0.05, 0.18)
            img[(xx - cx) ** 2 + (yy - cy) ** 2 <= r * r] = COLOURS[names[rng.integers(len(names))]]
        caption = f"colourful circles on a {b} background"
    elif kind == "gradient":
        ang = rng.uniform(0, 2 * np.pi)
        ramp = np.clip(0.5 + 0.7 * (np.cos(ang) * (xx - 0.5) + np.sin(ang) * (yy - 0.5)), 0, 1)
        img = _mix(ramp, a, b)
        # Thin grid lines give the smooth ramp something to track.
        n = int(rng.integers(4, 8))
        lines = (np.abs((xx * n) % 1 - 0.5) > 0.46) | (np.abs((yy * n) % 1 - 0.5) > 0.46)
        img[lines] = img[lines] * 0.6
        caption = f"a {a} and {b} gradient with grid lines"
    elif kind == "shapes":
        img = _mix(np.zeros_like(xx), a, b)
        names = sorted(COLOURS)
        for _ in range(int(rng.integers(6, 12))):
            col = COLOURS[names[rng.integers(len(names))]]
            x0, y0 = rng.uniform(0, 0.85, size=2)
            w, h = rng.uniform(0.08, 0.3, size=2)
            if rng.uniform() < 0.5:
                img[(xx >= x0) & (xx <= x0 + w) & (yy >= y0) & (yy <= y0 + h)] = col
            else:  # a triangle
                img[(yy >= y0) & (yy <= y0 + h) & (np.abs(xx - x0 - w / 2) <= (yy - y0) / max(h, 1e-6) * w / 2)] = col
        caption = f"squares and triangles on a {b} background"
    elif kind == "dots":
        n = int(rng.integers(6, 12))
        jitter = rng.uniform(-0.15, 0.15, size=(n, n, 2))
        fx, fy = xx * n, yy * n
        ix, iy = np.clip(fx.astype(int), 0, n - 1), np.clip(fy.astype(int), 0, n - 1)
        dx = fx % 1 - 0.5 - jitter[iy, ix, 0]
        dy = fy % 1 - 0.5 - jitter[iy, ix, 1]
        mask = (dx**2 + dy**2 < 0.09).astype(float)
        img = _mix(mask, a, b)
        caption = f"{a} dots on {b}"
    elif kind == "waves":
        f1, f2 = rng.uniform(2, 5, size=2)
        v = np.sin(2 * np.pi * (f1 * xx + 0.3 * np.sin(2 * np.pi * f2 * yy)))
        img = _mix((v + 1) / 2, a, b)
        caption = f"{a} and {b} waves"
    elif kind == "noise":
        coarse = rng.uniform(0, 1, size=(8, 8))
        up = np.kron(coarse, np.ones((size // 8 + 1, size // 8 + 1)))[:size, :size]
        fine = rng.uniform(0, 1, size=(size, size))
        img = _mix(np.clip(0.75 * up + 0.25 * fine, 0, 1), a, b)
        caption = f"{a} and {b} noise texture"
    else:
        raise ValueError(f"unknown procedural kind {kind!r}; choose one of {KINDS}")
    return np.clip(img, 0, 255).round().astype(np.uint8), caption


def procedural_inputs(count: int = 12, seed: int = 0) -> list[RawInput]:
    """`count` scenes cycling through the kinds; scene i uses seed (seed, i)."""
    out = []
    for i in range(count):
        kind = KINDS[i % len(KINDS)]
        s = int(np.random.SeedSequence([seed, i]).generate_state(1)[0])
        _, caption = draw(kind, s, 16)
        out.append(
            RawInput(
                name=f"builtin:procedural/{kind}-{i:02d}",
                source="procedural",
                caption=caption,
                licence="generated by v2l (no restrictions)",
                origin=f"v2l procedural {kind} seed={s}",
                id_hint=f"proc-{kind}-{i:02d}",
                builtin=f"procedural:{kind}:{s}",
            )
        )
    return out
