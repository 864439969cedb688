"""A corpus's content version, known before it is built: the hash of its config and of every content file's
bytes (relative path + sha256). Dagster keys its `dataset_version` partitions by it; the same config and the
same files always give the same version, a new or changed file a new one."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

from v2l.atomic import swap_dir
from v2l.data.config import CorpusConfig
from v2l.data.content.user_folder import list_files
from v2l.video.io import file_sha256


def folder_digest(root: str | Path) -> list[tuple[str, str]]:
    """(relative path, sha256) of every regular file below `root`, sorted; [] for a missing folder."""
    root = Path(root)
    if not root.is_dir():
        return []
    return [
        (p.relative_to(root).as_posix(), file_sha256(p)) for p in list_files(root) if p.is_file() and not p.is_symlink()
    ]


def content_version(cfg: CorpusConfig) -> str:
    """16 hex digits: the config without its folder paths, plus each content folder's files and their bytes."""
    config = cfg.to_dict()
    config.pop("content_dirs")
    h = hashlib.sha256(json.dumps(config, sort_keys=True).encode())
    for d in cfg.content_dirs:
        for rel, sha in folder_digest(d):
            h.update(f"{rel}:{sha}\n".encode())
        h.update(b"--\n")
    return h.hexdigest()[:16]


def snapshot(src: str | Path, dest: str | Path) -> Path:
    """Copy the folder `src` to `dest` (a frozen copy of one version's new content), atomically."""

    src, dest = Path(src), Path(dest)
    if dest.is_dir():
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = dest.parent / f".staging-{dest.name}"
    shutil.rmtree(staging, ignore_errors=True)
    shutil.copytree(src, staging, symlinks=True)
    swap_dir(staging, dest)
    return dest
