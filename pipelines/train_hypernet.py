"""Distributed hypernetwork training on Ray Train, without Dagster (`v2l.training.ray_fit.fit`):

    python -m pipelines.train_hypernet pipelines/configs/tiny.yaml [--set max_steps=200 --set ray.workers=2]

Checkpoints and the MLflow run go to the config's run_dir; a second run resumes from its last checkpoint.
"""

from __future__ import annotations

import sys

from pipelines.entry import run_job
from v2l.training.config import load_config
from v2l.training.ray_fit import fit


def main(argv: list[str] | None = None) -> int:
    return run_job(
        "pipelines.train_hypernet",
        __doc__,
        load_config,
        fit,
        lambda r: f"finished: {r.metrics}; checkpoint {r.checkpoint}",
        argv,
    )


if __name__ == "__main__":
    sys.exit(main())
