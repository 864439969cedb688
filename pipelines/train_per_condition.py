"""The per-condition LoRA baseline on Ray Train, without Dagster (`v2l.baselines.per_condition_job.fit`):

    python -m pipelines.train_per_condition CONFIG.yaml [--set minutes=2 --set semantics=[pan_left,melt]]

CONFIG holds `PerConditionConfig` fields; adapters, a result per semantic and an MLflow run go to its out.
"""

from __future__ import annotations

import json
import sys

from pipelines.entry import run_job
from v2l.baselines.per_condition_job import fit, load_per_condition_config


def main(argv: list[str] | None = None) -> int:
    return run_job(
        "pipelines.train_per_condition",
        __doc__,
        load_per_condition_config,
        fit,
        lambda s: json.dumps({k: v for k, v in s.items() if k != "per_semantic"}, indent=2),
        argv,
    )


if __name__ == "__main__":
    sys.exit(main())
