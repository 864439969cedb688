"""Which semantics each stage of training sees: the zero-shot split, in two tiers. Configuration with a fixed default.

- `train`: seen by everything (backbone pretraining, the hypernetwork's pairs, per-semantic codes).
- `tier1`: known to the backbone, unseen by the hypernetwork. The backbone's pretraining renders them with
  content-only captions like every other semantic it learns; no code, distillation or fine-tuning pair has them.
  This is the paper's zero-shot setting (CogVideoX saw every kind of move on web video; the hypernetwork never
  saw the semantic class in its pairs).
- `tier2`: never seen by any trained model except the judge that scores them.

Each held-out semantic has seen relatives (a diagonal pan next to the axis pans, a spiral next to zoom
and rotation, ...), so zero-shot transfer is plausible rather than impossible.
"""

from __future__ import annotations

from typing import Iterable

from v2l.data.semantics.registry import all_semantics
from v2l.errors import V2LError

DEFAULT_TIER1 = ("pan_diagonal", "spiral_in", "ripple", "fade_white", "invert", "pixelate")
DEFAULT_TIER2 = ("pan_antidiagonal", "zoom_bounce", "wipe", "solarize")
DEFAULT_HELDOUT = DEFAULT_TIER1 + DEFAULT_TIER2
MIN_HELDOUT = 6
TIERS = ("train", "tier1", "tier2")


def semantic_tiers(heldout: Iterable[str] | None = None, tier2: Iterable[str] | None = None) -> dict[str, str]:
    """name -> "train", "tier1" or "tier2" for every registered semantic. `heldout` is every semantic the
    hypernetwork never sees; `tier2` (a subset of it) the ones no backbone sees either."""

    names = [s.name for s in all_semantics()]
    held = tuple(DEFAULT_HELDOUT if heldout is None else heldout)
    never = tuple(DEFAULT_TIER2 if tier2 is None else tier2)
    if heldout is not None and tier2 is None:
        never = tuple(n for n in never if n in held)  # a custom held-out set keeps the default tier 2 it names
    unknown = sorted((set(held) | set(never)) - set(names))
    if unknown:
        raise V2LError(f"held-out semantics {unknown} are not registered; choose from `v2l data semantics`")
    if not set(never) <= set(held):
        raise V2LError(f"tier-2 semantics {sorted(set(never) - set(held))} must also be held out")
    if len(set(held)) < MIN_HELDOUT:
        raise V2LError(f"hold out at least {MIN_HELDOUT} semantics for zero-shot tests, got {len(set(held))}")
    if len(set(held)) >= len(names):
        raise V2LError("every semantic is held out: leave some for training")
    return {n: ("tier2" if n in never else "tier1" if n in held else "train") for n in names}


def semantic_split(heldout: Iterable[str] | None = None) -> dict[str, str]:
    """name -> "train" or "heldout" (the hypernetwork's view: tier 1 and tier 2 are both held out)."""
    return {n: ("train" if t == "train" else "heldout") for n, t in semantic_tiers(heldout).items()}


def parse_heldout(text: str | None) -> tuple[str, ...] | None:
    """'a,b,c' -> ('a', 'b', 'c'); None or '' -> None (the default split)."""
    if not text:
        return None
    return tuple(x.strip() for x in text.split(",") if x.strip())
