"""The camera window a semantic looks through, and warping of that window with grid_sample.

Every semantic starts from the same "base crop": a window on the content image with a random centre,
size and horizontal flip. Geometric semantics map each output pixel p (normalised coords, x right,
y down, in [-1, 1]) to a point D_t(p) of the base crop's own coordinate frame, which extends past the
crop into the rest of the image. So frame_t(p) = base(D_t(p)), and frame 0 is always the base crop:
the target's first frame is the conditioning image and every clip has ground truth.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

VIEW_PARAMS = ("view_cx", "view_cy", "view_half", "view_flip")


def sample_view(rng: np.random.Generator) -> dict[str, float]:
    """Random window: centre within the middle of the image, half-size 45-60 % of the image half-size."""
    half = float(rng.uniform(0.45, 0.6))
    room = 1.0 - half - 0.15
    return {
        "view_cx": float(rng.uniform(-room, room)),
        "view_cy": float(rng.uniform(-room, room)),
        "view_half": half,
        "view_flip": float(rng.integers(0, 2)),
    }


@dataclass
class View:
    """A content image seen through a window; renders warped frames of it as float (F, 3, H, W) in [0, 1]."""

    source: torch.Tensor  # (1, 3, S, S) float in [0, 1]
    params: dict[str, float]
    num_frames: int
    height: int
    width: int

    @classmethod
    def of(cls, image: np.ndarray, params: dict, num_frames: int, height: int, width: int) -> "View":
        image = np.asarray(image)
        if image.ndim == 2:
            image = np.repeat(image[..., None], 3, axis=-1)
        if image.ndim != 3 or image.shape[-1] < 3 or image.dtype != np.uint8:
            raise ValueError(f"content image must be uint8 (H, W, 3), got {image.dtype} {image.shape}")
        src = (
            torch.from_numpy(np.array(image[..., :3], dtype=np.uint8, copy=True)).permute(2, 0, 1)[None].float() / 255.0
        )
        return cls(src, params, num_frames, height, width)

    @property
    def t(self) -> torch.Tensor:
        """Normalised time of each frame: 0 at the first frame, 1 at the last."""
        return torch.linspace(0.0, 1.0, self.num_frames)

    def identity(self) -> torch.Tensor:
        """Output pixel centres as (F, H, W, 2) normalised (x, y)."""
        ys = (torch.arange(self.height) + 0.5) / self.height * 2 - 1
        xs = (torch.arange(self.width) + 0.5) / self.width * 2 - 1
        gy, gx = torch.meshgrid(ys, xs, indexing="ij")
        return torch.stack([gx, gy], dim=-1)[None].expand(self.num_frames, -1, -1, -1).clone()

    def sample(self, coords: torch.Tensor, outside: str = "reflect") -> torch.Tensor:
        """Sample the content at base-crop coords (F, H, W, 2). `outside`: "reflect" the image past its
        edges (camera moves), or "black" wherever coords leave the base crop (effects that tear content)."""
        p = self.params
        aspect = self.width / self.height
        half_x, half_y = p["view_half"] * aspect, p["view_half"]
        sx = -1.0 if p["view_flip"] >= 0.5 else 1.0
        grid = torch.stack([p["view_cx"] + sx * half_x * coords[..., 0], p["view_cy"] + half_y * coords[..., 1]], -1)
        src = self.source.expand(coords.shape[0], -1, -1, -1)
        out = F.grid_sample(src, grid, mode="bilinear", padding_mode="reflection", align_corners=False)
        if outside == "black":
            inside = (coords.abs() <= 1.0).all(dim=-1)[:, None].float()
            out = out * inside
        return out.clamp(0, 1)

    def base(self) -> torch.Tensor:
        """The base crop repeated over all frames: (F, 3, H, W)."""
        return self.sample(self.identity())


def to_uint8(frames: torch.Tensor) -> np.ndarray:
    """(F, 3, H, W) float in [0, 1] -> uint8 (F, H, W, 3)."""
    return (frames.clamp(0, 1) * 255).round().to(torch.uint8).permute(0, 2, 3, 1).contiguous().numpy()


def rotation(coords: torch.Tensor, angle: torch.Tensor) -> torch.Tensor:
    """Rotate (F, H, W, 2) coords by per-frame angles (F,) in radians; x right, y down."""
    c, s = torch.cos(angle)[:, None, None], torch.sin(angle)[:, None, None]
    x, y = coords[..., 0], coords[..., 1]
    return torch.stack([c * x - s * y, s * x + c * y], dim=-1)
