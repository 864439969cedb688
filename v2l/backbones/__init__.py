"""Backbone presets behind one spec class (finetrainers-style): `get_spec(name)`."""

from __future__ import annotations

from v2l.backbones.cogvideox_5b_i2v import CogVideoX5BI2VSpec
from v2l.backbones.spec import Backbone, BackboneSpec
from v2l.backbones.tiny import TinySpec
from v2l.errors import V2LError

PRESETS = ("tiny", "cogvideox-5b-i2v")


def get_spec(name: str) -> BackboneSpec:
    specs = {"tiny": TinySpec, "cogvideox-5b-i2v": CogVideoX5BI2VSpec}
    if name not in specs:
        raise V2LError(f"unknown backbone preset {name!r}; choose one of {', '.join(PRESETS)}")
    return specs[name]()


__all__ = ["Backbone", "BackboneSpec", "PRESETS", "get_spec"]
