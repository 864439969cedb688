"""Model cards for committed weights: machine-readable `card.json` plus a short human `README.md`."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from v2l.atomic import write_text_atomic


def sha256_file(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def weight_files(model_dir: Path) -> list[Path]:
    return sorted(p for p in model_dir.rglob("*.safetensors"))


def write_card(model_dir: str | Path, name: str, command: str, data_version: str, seed: int, wall_minutes: float,
               metrics: dict, bars: dict | None = None, notes: str = "") -> dict:
    model_dir = Path(model_dir)
    card = {
        "name": name,
        "command": command,
        "data_version": data_version,
        "seed": seed,
        "wall_minutes": round(wall_minutes, 2),
        "files": {str(p.relative_to(model_dir)): sha256_file(p) for p in weight_files(model_dir)},
        "metrics": metrics,
        "bars": bars or {},
        "notes": notes,
    }
    write_text_atomic(model_dir / "card.json", json.dumps(card, indent=2) + "\n")
    lines = [f"# {name}", "", f"- command: `{command}`", f"- data version: `{data_version}`", f"- seed: {seed}",
             f"- wall time: {card['wall_minutes']} min", "", "## Metrics (measured on held-out content)", ""]
    lines += [f"- {k}: {v}" for k, v in metrics.items()]
    if bars:
        lines += ["", "## Bars", ""] + [f"- {k}: {v}" for k, v in bars.items()]
    lines += ["", "## Files (sha256)", ""] + [f"- `{k}`: `{v}`" for k, v in card["files"].items()]
    if notes:
        lines += ["", notes]
    write_text_atomic(model_dir / "README.md", "\n".join(lines) + "\n")
    return card
