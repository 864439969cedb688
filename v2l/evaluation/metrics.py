"""Per-sample evaluation metrics, each from a library: PSNR/SSIM (scikit-image), dense optical flow (OpenCV's
Farneback), bootstrap 95 % intervals (scipy). Videos are tensors (3, F, H, W) in [-1, 1].

Every function returns one number per sample, so every aggregate (per split, family, semantic, arm) is a mean
of per-sample values with its own bootstrap interval.
"""

from __future__ import annotations

import numpy as np
import torch

BOOTSTRAP_RESAMPLES = 2000


def bootstrap_ci(values, seed: int = 0, resamples: int = BOOTSTRAP_RESAMPLES) -> list[float]:
    """95 % percentile-bootstrap interval of the mean (scipy). Paired differences go in as one array."""
    from scipy.stats import bootstrap

    x = np.asarray(values, dtype=np.float64)
    x = x[np.isfinite(x)]
    if len(x) == 0:
        return [float("nan"), float("nan")]
    if len(x) == 1 or np.all(x == x[0]):  # no spread to resample
        return [float(x[0]), float(x[0])]
    res = bootstrap(
        (x,),
        np.mean,
        n_resamples=resamples,
        confidence_level=0.95,
        method="percentile",
        random_state=np.random.default_rng(seed),
        vectorized=True,
    )
    return [float(res.confidence_interval.low), float(res.confidence_interval.high)]


def mean_ci(values, seed: int = 0) -> dict:
    """{"mean", "ci95", "n"} over the finite values (NaN marks a metric that does not apply to a sample)."""
    x = np.asarray(values, dtype=np.float64)
    x = x[np.isfinite(x)]
    return {"mean": float(x.mean()) if len(x) else float("nan"), "ci95": bootstrap_ci(x, seed), "n": int(len(x))}


def _frames_hwc(video: torch.Tensor) -> np.ndarray:
    """(3, F, H, W) in [-1, 1] -> float (F, H, W, 3) in [0, 1]."""
    return ((video.detach().float().cpu().clamp(-1, 1) + 1) / 2).permute(1, 2, 3, 0).numpy()


def _unit(x: torch.Tensor) -> np.ndarray:
    """Any tensor in [-1, 1] -> float numpy in [0, 1], same shape."""
    return ((x.detach().float().cpu().clamp(-1, 1) + 1) / 2).numpy()


def psnr(video: torch.Tensor, target: torch.Tensor) -> float:
    """PSNR in dB of one sample of any shape, a video or an image (scikit-image), data range [0, 1]."""
    from skimage.metrics import peak_signal_noise_ratio

    a, b = _unit(video), _unit(target)
    if np.array_equal(a, b):
        return float("inf")
    return float(peak_signal_noise_ratio(b, a, data_range=1.0))


def psnr_each(videos: torch.Tensor, targets: torch.Tensor) -> np.ndarray:
    """PSNR in dB of each sample of a batch (dim 0)."""
    return np.array([psnr(v, t) for v, t in zip(videos, targets)])


def ssim(video: torch.Tensor, target: torch.Tensor) -> float:
    """Mean SSIM over frames (scikit-image, colour channels averaged)."""
    from skimage.metrics import structural_similarity

    a, b = _frames_hwc(video), _frames_hwc(target)
    return float(np.mean([structural_similarity(b[f], a[f], data_range=1.0, channel_axis=-1) for f in range(len(a))]))


def dense_flow(video: torch.Tensor) -> np.ndarray:
    """Farneback flow between consecutive frames: (F-1, H, W, 2) in pixels."""
    import cv2

    gray = (np.dot(_frames_hwc(video), [0.299, 0.587, 0.114]) * 255).round().astype(np.uint8)
    return np.stack(
        [
            cv2.calcOpticalFlowFarneback(
                gray[i],
                gray[i + 1],
                None,
                pyr_scale=0.5,
                levels=2,
                winsize=9,
                iterations=3,
                poly_n=5,
                poly_sigma=1.1,
                flags=0,
            )
            for i in range(len(gray) - 1)
        ]
    )


def motion_similarity(video: torch.Tensor, reference: torch.Tensor) -> float:
    """Cosine similarity of the two clips' mean flow per frame pair (all pairs as one vector): +1 the same
    motion, -1 the opposite. Clips of different lengths are compared over their common frame pairs."""
    fa, fb = dense_flow(video), dense_flow(reference)
    n = min(len(fa), len(fb))
    a, b = fa[:n].mean(axis=(1, 2)).ravel(), fb[:n].mean(axis=(1, 2)).ravel()
    denom = np.linalg.norm(a) * np.linalg.norm(b)
    return float(a @ b / denom) if denom > 1e-12 else 0.0


def flow_epe(video: torch.Tensor, target: torch.Tensor) -> float:
    """Mean end-point error (pixels) between the generation's and the ground-truth target's dense flow."""
    fa, fb = dense_flow(video), dense_flow(target)
    return float(np.linalg.norm(fa - fb, axis=-1).mean())
