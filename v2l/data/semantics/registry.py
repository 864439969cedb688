"""Registry of semantics: each a pure, seeded function (content image, params, rng) -> frames.

A semantic declares its parameter ranges; `sample_params(rng)` draws them (plus the camera window
shared by all semantics), and `render(image, params, rng, ...)` is deterministic given its arguments.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch

from v2l.data.semantics.view import View, sample_view, to_uint8
from v2l.errors import V2LError

FAMILIES = ("camera", "effect", "style")

RenderFn = Callable[[View, dict, np.random.Generator], torch.Tensor]


@dataclass(frozen=True)
class Semantic:
    name: str
    family: str
    description: str
    fn: RenderFn
    # name -> (low, high): uniform float range; (low, high, "int"): integer range, both ends included.
    ranges: dict[str, tuple] = field(default_factory=dict)

    def sample_params(self, rng: np.random.Generator) -> dict[str, float]:
        params = sample_view(rng)
        for key, spec in sorted(self.ranges.items()):
            if len(spec) == 3 and spec[2] == "int":
                params[key] = float(rng.integers(int(spec[0]), int(spec[1]) + 1))
            else:
                params[key] = float(rng.uniform(spec[0], spec[1]))
        return params

    def render(
        self,
        image: np.ndarray,
        params: dict,
        rng: np.random.Generator,
        num_frames: int = 9,
        size: tuple[int, int] = (48, 48),
    ) -> np.ndarray:
        """uint8 (F, H, W, 3); frame 0 is the untransformed base crop."""
        view = View.of(image, params, num_frames, size[0], size[1])
        with torch.no_grad():
            frames = self.fn(view, params, rng)
        return to_uint8(frames)

    def __call__(self, image: np.ndarray, seed: int, num_frames: int = 9, size: tuple[int, int] = (48, 48)):
        """Draw parameters from `seed` and render: the same seed gives the same frames."""
        rng = np.random.default_rng(seed)
        params = self.sample_params(rng)
        return self.render(image, params, rng, num_frames, size), params


_REGISTRY: dict[str, Semantic] = {}


def register(name: str, family: str, description: str, **ranges):
    """Decorator: `@register("pan_left", "camera", "...", distance=(0.35, 0.6))`."""
    if family not in FAMILIES:
        raise ValueError(f"family {family!r} not in {FAMILIES}")

    def wrap(fn: RenderFn) -> RenderFn:
        if name in _REGISTRY:
            raise ValueError(f"semantic {name!r} registered twice")
        if "." in name or not name.replace("_", "").isalnum():
            raise ValueError(f"semantic name {name!r} must be letters, digits and underscores (used in shard keys)")
        _REGISTRY[name] = Semantic(name, family, description, fn, dict(ranges))
        return fn

    return wrap


def all_semantics() -> list[Semantic]:
    return [_REGISTRY[k] for k in sorted(_REGISTRY, key=lambda n: (FAMILIES.index(_REGISTRY[n].family), n))]


def get_semantic(name: str) -> Semantic:
    if name not in _REGISTRY:
        raise V2LError(f"unknown semantic {name!r}; list them with `v2l data semantics`")
    return _REGISTRY[name]
