"""What each committed model was trained on: the sha256 of its upstream models' files, kept in its card.

Every file can match its own card and the world still be broken: a new VAE changes the latent space, so the
transformer and hypernetwork trained on the old one no longer fit it. A card's `built_on` names the upstream
files it was trained against, and `v2l models` refuses the chain when they differ from what is committed.
"""

from __future__ import annotations

import json
from pathlib import Path

from v2l.errors import V2LError
from v2l.video.io import file_sha256

# Which committed models each one was trained on (the text encoder is frozen and saved with the transformer).
# The judge and CLIP score real clips and frames: the judge sees VAE reconstructions only as a training
# augmentation, so a new VAE does not invalidate it; `v2l evaluate judge` re-measures it through the new one.
UPSTREAM = {"transformer": ("vae", "text_encoder"), "hypernet": ("vae", "transformer", "text_encoder")}


def files_of(model_dir: str | Path) -> dict[str, str]:
    """{weight file: sha256} of a model folder: from its card when it has one, else hashed here."""
    model_dir = Path(model_dir)
    card = model_dir / "card.json"
    if card.is_file():
        return json.loads(card.read_text())["files"]
    return {str(p.relative_to(model_dir)): file_sha256(p) for p in sorted(model_dir.rglob("*.safetensors"))}


def upstream_files(root: str | Path, name: str) -> dict[str, dict[str, str]]:
    """The upstream models of `name` as committed under `root` now (only those present)."""
    root = Path(root)
    return {up: files_of(root / up) for up in UPSTREAM.get(name, ()) if (root / up / "config.json").is_file()}


def stale_upstream(root: str | Path, name: str, card: dict) -> str | None:
    """Why `name` no longer fits what is committed under `root`, or None (also when its card predates lineage)."""
    built_on = card.get("built_on")
    if not built_on:
        return None
    now = upstream_files(root, name)
    changed = [up for up, files in built_on.items() if up in now and now[up] != files]
    if not changed:
        return None
    detail = ", ".join(f"{up} {_short(built_on[up])} (committed: {_short(now[up])})" for up in changed)
    return (
        f"{name} was trained on another {' and '.join(changed)}: {detail}; retrain it on the committed "
        f"models with: {card.get('command', 'its command')}, or restore the matching {', '.join(changed)}"
    )


def differing(a: dict, b: dict) -> list[str]:
    """Components whose files differ between two {component: {file: sha256}} fingerprints."""
    return sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))


def check_trained_on(checkpoint: str | Path, fingerprint: dict, fix: str) -> None:
    """Refuse a training checkpoint whose recorded backbone (state.json) is not `fingerprint`: its LoRAs were
    fitted to other weights. Checkpoints from before the fingerprint, or of an uncarded backbone, carry none."""
    state = Path(checkpoint) / "state.json"
    recorded = json.loads(state.read_text()).get("backbone") if state.is_file() else None
    if not recorded or recorded == fingerprint:
        return
    changed = differing(recorded, fingerprint)
    raise V2LError(f"checkpoint {checkpoint} was trained on another backbone ({', '.join(changed)} differ); {fix}")


def _short(files: dict[str, str]) -> str:
    return "/".join(h[:12] for _, h in sorted(files.items())) or "none"
