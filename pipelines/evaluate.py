"""The evaluation as a Ray batch job, without Dagster (`v2l.evaluation.ray_actors.run`; `v2l eval` is the same):

    python -m pipelines.evaluate pipelines/configs/eval_tiny.yaml [--set split=seen --set workers=2]

Writes summary.json, samples.jsonl, report.md and figures to the config's out, and an MLflow run.
"""

from __future__ import annotations

import json
import sys

from pipelines.entry import run_job
from v2l.evaluation.job import load_eval_config
from v2l.evaluation.ray_actors import run


def _show(summary: dict) -> str:
    head = json.dumps({k: summary[k] for k in ("model", "throughput") if k in summary}, indent=2)
    return f"{head}\nwrote {summary['config']['out']}/summary.json, samples.jsonl, report.md"


def main(argv: list[str] | None = None) -> int:
    return run_job("pipelines.evaluate", __doc__, load_eval_config, run, _show, argv)


if __name__ == "__main__":
    sys.exit(main())
