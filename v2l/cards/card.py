"""Model cards for committed weights: machine-readable `card.json` plus a short human `README.md`."""

from __future__ import annotations

import json
from pathlib import Path

from v2l.atomic import write_text_atomic
from v2l.errors import V2LError
from v2l.video.io import file_sha256 as sha256_file


def weight_files(model_dir: Path) -> list[Path]:
    return sorted(p for p in model_dir.rglob("*.safetensors"))


def write_card(
    model_dir: str | Path,
    name: str,
    command: str,
    data_version: str,
    seed: int,
    wall_minutes: float,
    metrics: dict,
    bars: dict | None = None,
    notes: str = "",
    built_on: dict[str, dict[str, str]] | None = None,
    semantics_seen: list[str] | None = None,
) -> dict:
    """`built_on`: {upstream model: {file: sha256}} it was trained on (see v2l.cards.lineage);
    `semantics_seen`: the semantics its training data rendered (the zero-shot tiers depend on it)."""
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
        **({"built_on": built_on} if built_on else {}),
        **({"semantics_seen": list(semantics_seen)} if semantics_seen is not None else {}),
    }
    write_text_atomic(model_dir / "card.json", json.dumps(card, indent=2) + "\n")
    lines = [
        f"# {name}",
        "",
        f"- command: `{command}`",
        f"- data version: `{data_version}`",
        f"- seed: {seed}",
        f"- wall time: {card['wall_minutes']} min",
        "",
        "## Metrics (measured on held-out content)",
        "",
    ]
    lines += [f"- {k}: {v}" for k, v in metrics.items()]
    if bars:
        lines += ["", "## Bars", ""] + [f"- {k}: {v}" for k, v in bars.items()]
    lines += ["", "## Files (sha256)", ""] + [f"- `{k}`: `{v}`" for k, v in card["files"].items()]
    if built_on:
        lines += ["", "## Built on (sha256 of the upstream files it was trained against)", ""]
        lines += [f"- {up}: " + ", ".join(f"`{k}` `{v}`" for k, v in files.items()) for up, files in built_on.items()]
    if semantics_seen is not None:
        lines += ["", f"## Semantics seen in training ({len(semantics_seen)})", "", ", ".join(semantics_seen)]
    if notes:
        lines += ["", notes]
    write_text_atomic(model_dir / "README.md", "\n".join(lines) + "\n")
    return card


def verify(model_dir: str | Path) -> dict:
    """Check every weight file of a committed model against its card; raise V2LError naming the bad file."""

    model_dir = Path(model_dir)
    card_path = model_dir / "card.json"
    if not card_path.is_file():
        raise V2LError(f"committed model {model_dir} has no card.json; restore it with `git checkout -- {model_dir}`")
    card = json.loads(card_path.read_text())
    for rel, expected in card["files"].items():
        path = model_dir / rel
        if not path.is_file():
            raise V2LError(f"committed weight file {path} is missing; restore it with `git checkout -- {path}`")
        actual = sha256_file(path)
        if actual != expected:
            raise V2LError(
                f"committed weight file {path} is corrupted (sha256 {actual[:12]}… but its card says "
                f"{expected[:12]}…); restore it with `git checkout -- {path}` or retrain it with: "
                f"{card['command']}"
            )
    return card


def committed_cards(root: str | Path) -> list[tuple[Path, dict | None, str | None]]:
    """(model dir, card or None, error or None) for every committed model under root."""

    out = []
    for card_path in sorted(Path(root).glob("*/card.json")):
        try:
            out.append((card_path.parent, verify(card_path.parent), None))
        except V2LError as exc:
            out.append((card_path.parent, None, str(exc)))
    return out


def update_metrics(model_dir: str | Path, metrics: dict, section: str | None = None) -> dict:
    """Merge measured metrics into a committed card (its file hashes are untouched) and re-render its README."""
    model_dir = Path(model_dir)
    card = json.loads((model_dir / "card.json").read_text())
    if section:
        card["metrics"][section] = metrics
    else:
        card["metrics"].update(metrics)
    return write_card(
        model_dir,
        card["name"],
        card["command"],
        card["data_version"],
        card["seed"],
        card["wall_minutes"],
        card["metrics"],
        card["bars"],
        card.get("notes", ""),
        card.get("built_on"),
        card.get("semantics_seen"),
    )
