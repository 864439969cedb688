"""The world's data version: a hash of its content and semantics config and the tier of every semantic."""

from __future__ import annotations

import hashlib
import json

from v2l.data.semantics.split import semantic_tiers
from v2l.world.sampler import WorldConfig


def data_version(world: WorldConfig) -> str:
    """The world's content and semantics, with the tier of each: models of one data version saw the same world."""
    text = world.model_dump_json() + json.dumps(semantic_tiers())
    return "world-" + hashlib.sha256(text.encode()).hexdigest()[:12]
