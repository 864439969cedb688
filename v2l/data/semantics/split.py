"""Which semantics are held out of all training (the zero-shot split). Configuration with a fixed default.

Each held-out semantic has seen relatives (a diagonal pan next to the axis pans, a spiral next to zoom
and rotation, ...), so zero-shot transfer is plausible rather than impossible.
"""

from __future__ import annotations

from typing import Iterable

from v2l.errors import V2LError

DEFAULT_HELDOUT = ("pan_diagonal", "spiral_in", "ripple", "fade_white", "invert", "pixelate")
MIN_HELDOUT = 6


def semantic_split(heldout: Iterable[str] | None = None) -> dict[str, str]:
    """name -> "train" or "heldout" for every registered semantic."""
    from v2l.data.semantics.registry import all_semantics

    names = [s.name for s in all_semantics()]
    held = tuple(DEFAULT_HELDOUT if heldout is None else heldout)
    unknown = sorted(set(held) - set(names))
    if unknown:
        raise V2LError(f"held-out semantics {unknown} are not registered; choose from `v2l data semantics`")
    if len(set(held)) < MIN_HELDOUT:
        raise V2LError(f"hold out at least {MIN_HELDOUT} semantics for zero-shot tests, got {len(set(held))}")
    if len(set(held)) >= len(names):
        raise V2LError("every semantic is held out: leave some for training")
    return {n: ("heldout" if n in held else "train") for n in names}


def parse_heldout(text: str | None) -> tuple[str, ...] | None:
    """'a,b,c' -> ('a', 'b', 'c'); None or '' -> None (the default split)."""
    if not text:
        return None
    return tuple(x.strip() for x in text.split(",") if x.strip())
