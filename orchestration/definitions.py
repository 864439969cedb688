"""Dagster entry point: `dagster dev -f orchestration/definitions.py -h 127.0.0.1`."""

from __future__ import annotations

import os

import dagster as dg

from orchestration.data_assets import DATA_ASSETS
from orchestration.data_checks import DATA_CHECKS
from orchestration.data_jobs import corpus_job, weekly_corpus
from orchestration.pretrain_assets import PRETRAIN_ASSETS
from orchestration.pretrain_checks import PRETRAIN_CHECKS
from orchestration.pretrain_jobs import tiny_world_job
from orchestration.resources import CorpusSettings, PretrainSettings

defs = dg.Definitions(
    assets=[*DATA_ASSETS, *PRETRAIN_ASSETS],
    asset_checks=[*DATA_CHECKS, *PRETRAIN_CHECKS],
    jobs=[corpus_job, tiny_world_job],
    schedules=[weekly_corpus],
    resources={"corpus": CorpusSettings(out_dir=os.environ.get("V2L_CORPUS_DIR", "runs/corpus")),
               "pretrain": PretrainSettings(out_root=os.environ.get("V2L_PRETRAIN_DIR", "runs/pretrain"))},
)
