"""Step-folder checkpoints shared by every training loop (pretraining, hypernetwork training).

A checkpoint is a folder `step-XXXXXXXX/` that is complete or absent: it is written under a hidden temp name and
renamed in one step, a `latest` pointer file names the newest, and only the last K are kept. A process killed
mid-write leaves at most a `.tmp-step-*` folder, which is never read and is removed by the next write.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Callable

from v2l.atomic import write_text_atomic

LATEST = "latest"


def step_name(step: int) -> str:
    return f"step-{step:08d}"


def write_step(root: str | Path, step: int, write: Callable[[Path], None], keep_last: int) -> Path:
    """Call `write(folder)` on a fresh temp folder, then publish it as `root/step-XXXXXXXX`."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    final = root / step_name(step)
    tmp = root / f".tmp-{final.name}"
    for stale in root.glob(".tmp-step-*"):  # left by a killed writer
        shutil.rmtree(stale, ignore_errors=True)
    tmp.mkdir()
    write(tmp)
    shutil.rmtree(final, ignore_errors=True)
    tmp.rename(final)
    write_text_atomic(root / LATEST, final.name)
    for old in sorted(root.glob("step-*"))[: -max(1, keep_last)]:
        shutil.rmtree(old, ignore_errors=True)
    return final


def latest_step(root: str | Path, marker: str) -> Path | None:
    """The newest complete checkpoint (its `marker` file is written last), or None."""
    root = Path(root)
    pointer = root / LATEST
    if pointer.is_file():
        path = root / pointer.read_text().strip()
        if (path / marker).is_file():
            return path
    done = sorted(p for p in root.glob("step-*") if (p / marker).is_file())
    return done[-1] if done else None
