"""`manifest.json`: the dataset version, every shard with its sha256 and sample count, counts and semantics."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from v2l.atomic import write_text_atomic
from v2l.errors import V2LError

FORMAT = "v2l-corpus/1"
MANIFEST = "manifest.json"


def dataset_version(config: dict, shards: list[dict]) -> str:
    """Content-addressed: the same config and shard bytes give the same version string."""
    h = hashlib.sha256(json.dumps(config, sort_keys=True).encode())
    for s in shards:
        h.update(f"{s['file']}:{s['sha256']}".encode())
    return h.hexdigest()[:16]


def write_manifest(root: Path, manifest: dict) -> Path:
    path = Path(root) / MANIFEST
    write_text_atomic(path, json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return path


def read_manifest(root: str | Path) -> dict:
    path = Path(root) / MANIFEST
    if not path.is_file():
        raise V2LError(f"{path} does not exist; build the corpus first with `v2l data build --out {root}`")
    try:
        manifest = json.loads(path.read_text("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise V2LError(f"{path} is not valid JSON ({exc}); rebuild with `v2l data build --out {root}`") from None
    if manifest.get("format") != FORMAT:
        raise V2LError(f"{path} has format {manifest.get('format')!r}, expected {FORMAT!r}; rebuild the corpus")
    return manifest
