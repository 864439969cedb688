"""Measurements used by the data tests: what a clip actually does, estimated from its pixels.

These never call the semantics code, so a sign or scale error in a semantic cannot cancel out here.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F


def gray(frame: np.ndarray) -> np.ndarray:
    return frame.astype(np.float64) @ np.array([0.299, 0.587, 0.114])


def phase_shift(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """(dx, dy) in pixels such that b(p) ~ a(p - d): how far content moved from a to b (x right, y down)."""
    ga, gb = gray(a), gray(b)
    h, w = ga.shape
    win = np.outer(np.hanning(h), np.hanning(w))
    fa, fb = np.fft.fft2((ga - ga.mean()) * win), np.fft.fft2((gb - gb.mean()) * win)
    r = fb * np.conj(fa)
    corr = np.fft.ifft2(r / (np.abs(r) + 1e-9)).real
    dy, dx = np.unravel_index(np.argmax(corr), corr.shape)
    dy = dy - h if dy > h // 2 else dy
    dx = dx - w if dx > w // 2 else dx

    # Sub-pixel: parabola through the peak and its neighbours.
    def refine(c_m, c_0, c_p):
        d = c_m - 2 * c_0 + c_p
        return 0.0 if abs(d) < 1e-12 else 0.5 * (c_m - c_p) / d

    py, px = int(dy) % h, int(dx) % w
    sx = refine(corr[py, (px - 1) % w], corr[py, px], corr[py, (px + 1) % w])
    sy = refine(corr[(py - 1) % h, px], corr[py, px], corr[(py + 1) % h, px])
    return float(dx + sx), float(dy + sy)


def _warp(frame: np.ndarray, scale: float, degrees: float) -> torch.Tensor:
    """Content of `frame` magnified by `scale` and turned clockwise on screen by `degrees`, about the centre."""
    x = torch.from_numpy(frame.astype(np.float32)).permute(2, 0, 1)[None]
    a = -math.radians(degrees)
    c, s = math.cos(a), math.sin(a)
    theta = torch.tensor([[[c / scale, -s / scale, 0.0], [s / scale, c / scale, 0.0]]], dtype=torch.float32)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)[0]


def best_scale_angle(a: np.ndarray, b: np.ndarray, scales=None, angles=(0.0,), crop: float = 0.5):
    """The (scale, degrees) warp of `a` (magnify, turn clockwise) that best matches `b` in a central window."""
    scales = np.geomspace(0.5, 2.0, 41) if scales is None else scales
    h, w = a.shape[:2]
    y0, y1 = int(h * (1 - crop) / 2), int(h * (1 + crop) / 2)
    x0, x1 = int(w * (1 - crop) / 2), int(w * (1 + crop) / 2)
    target = torch.from_numpy(b.astype(np.float32)).permute(2, 0, 1)[:, y0:y1, x0:x1]
    best = (math.inf, 1.0, 0.0)
    for s in scales:
        for d in angles:
            err = float(((_warp(a, float(s), float(d))[:, y0:y1, x0:x1] - target) ** 2).mean())
            best = min(best, (err, float(s), float(d)))
    return best[1], best[2]


def marker_image(size: int = 96, at: tuple[float, float] = (0.0, -0.35), radius: int = 4) -> np.ndarray:
    """A black image with a white disc at normalised (x, y) (x right, y down)."""
    img = np.zeros((size, size, 3), np.uint8)
    yy, xx = np.mgrid[0:size, 0:size]
    cx, cy = (at[0] + 1) / 2 * size, (at[1] + 1) / 2 * size
    img[(xx - cx) ** 2 + (yy - cy) ** 2 <= radius**2] = 255
    return img


def centroid(frame: np.ndarray) -> tuple[float, float]:
    g = gray(frame)
    yy, xx = np.mgrid[0 : g.shape[0], 0 : g.shape[1]]
    return float((g * xx).sum() / g.sum()), float((g * yy).sum() / g.sum())


def saturation(frame: np.ndarray) -> np.ndarray:
    f = frame.astype(np.float64)
    return f.max(-1) - f.min(-1)


def yiq_hue(frame: np.ndarray) -> np.ndarray:
    f = frame.astype(np.float64) / 255
    i = f @ np.array([0.596, -0.274, -0.322])
    q = f @ np.array([0.211, -0.523, 0.312])
    return np.arctan2(q, i), np.hypot(i, q)


def laplacian_var(frame: np.ndarray) -> float:
    g = gray(frame)
    lap = -4 * g[1:-1, 1:-1] + g[:-2, 1:-1] + g[2:, 1:-1] + g[1:-1, :-2] + g[1:-1, 2:]
    return float(lap.var())


def rainbow_image(size: int = 128) -> np.ndarray:
    """A colourful test picture: hue varies with angle, brightness with radius (uint8 RGB)."""
    from skimage.color import hsv2rgb

    yy, xx = np.mgrid[-1 : 1 : size * 1j, -1 : 1 : size * 1j]
    hsv = np.stack(
        [
            (np.arctan2(yy, xx) / (2 * np.pi)) % 1.0,
            np.full_like(xx, 0.7),
            0.35 + 0.6 * np.clip(1 - np.hypot(xx, yy) / 1.5, 0, 1),
        ],
        -1,
    )
    return (hsv2rgb(hsv) * 255).round().astype(np.uint8)


def vertical_shift(a: np.ndarray, b: np.ndarray, max_shift: int = 30) -> int:
    """Integer dy such that b(y) ~ a(y - dy), found by search over rows that are not black in b."""
    ga, gb = gray(a), gray(b)
    best = (np.inf, 0)
    for dy in range(-max_shift, max_shift + 1):
        if dy >= 0:
            pa, pb = ga[: ga.shape[0] - dy], gb[dy:]
        else:
            pa, pb = ga[-dy:], gb[: gb.shape[0] + dy]
        keep = pb > 3
        if keep.sum() < 20:
            continue
        best = min(best, (float(np.abs(pa[keep] - pb[keep]).mean()), dy))
    return best[1]
