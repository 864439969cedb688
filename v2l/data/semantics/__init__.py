"""Semantics library: named, parametrised, seeded transformations of content into clips."""

# Importing the family modules runs their @register decorators (every import of the registry goes through
# this package first, so the registry is always complete).
from v2l.data.semantics import camera, effects, styles  # noqa: F401
from v2l.data.semantics.registry import FAMILIES, Semantic, all_semantics, get_semantic
from v2l.data.semantics.split import (
    DEFAULT_HELDOUT,
    DEFAULT_TIER1,
    DEFAULT_TIER2,
    parse_heldout,
    semantic_split,
    semantic_tiers,
)


def describe(heldout=None) -> list[dict]:
    """What `v2l data semantics --json` prints: name, family, split, description, parameter ranges."""
    split, tiers = semantic_split(heldout), semantic_tiers(heldout)
    return [
        {
            "name": s.name,
            "family": s.family,
            "split": split[s.name],
            "tier": tiers[s.name],
            "description": s.description,
            "params": {k: list(v[:2]) for k, v in sorted(s.ranges.items())},
        }
        for s in all_semantics()
    ]


__all__ = [
    "DEFAULT_HELDOUT",
    "DEFAULT_TIER1",
    "DEFAULT_TIER2",
    "FAMILIES",
    "Semantic",
    "all_semantics",
    "describe",
    "get_semantic",
    "parse_heldout",
    "semantic_split",
    "semantic_tiers",
]
