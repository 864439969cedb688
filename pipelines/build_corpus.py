"""Build a semantic-pair corpus from a config file, without Dagster (`v2l.data.build.build_from_config`):

    python -m pipelines.build_corpus pipelines/configs/data_tiny.yaml --set out=runs/corpus

The config's keys are `v2l.data.config.CorpusConfig` fields plus `out` (the corpus folder). The same stage
functions back the Dagster assets in `orchestration/`.
"""

from __future__ import annotations

import sys
from pathlib import Path

from pipelines.entry import run_job
from v2l.config import merge, read_mapping
from v2l.data.build import build_from_config
from v2l.data.config import CorpusConfig
from v2l.errors import V2LError


def load(path: str | Path, **overrides):
    """(corpus folder, CorpusConfig) from the file's fields (its `base:` chain merged) with the overrides on top."""

    data = merge(read_mapping(path, "corpus config", "pipelines/configs/data_tiny.yaml"), overrides)
    out = data.pop("out", None)
    if not out:
        raise V2LError(f"corpus config {path}: no output folder; set out: in it or pass --set out=DIR")
    return Path(out), CorpusConfig.model_validate(data)


def main(argv: list[str] | None = None) -> int:
    def run(job):
        return build_from_config(*job)

    return run_job(
        "pipelines.build_corpus",
        __doc__,
        load,
        run,
        lambda r: f"manifest   {r.manifest}\nshards     {r.shards}\nquarantine {r.quarantine}",
        argv,
    )


if __name__ == "__main__":
    sys.exit(main())
