"""Bulk LoRA library build on Ray Data, without Dagster (`v2l.library.ray_build.build`):

    python -m pipelines.build_library pipelines/configs/library_tiny.yaml [--set out=runs/lib --set workers=2]

A second run over the same references writes nothing new; interrupted builds resume from the index.
"""

from __future__ import annotations

import os
import sys

from pipelines.entry import run_job
from v2l.library.config import load_build_config
from v2l.library.ray_build import build


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    return run_job("pipelines.build_library", __doc__, load_build_config, build, lambda r: r.summary(), argv)


if __name__ == "__main__":
    sys.exit(main())
