"""Dagster entry point: `dagster dev -f orchestration/definitions.py -h 127.0.0.1` (or `make ui`).

Every asset from content to LoRA library (per dataset version), the tiny world's models, their checks, the jobs,
the weekly retraining schedule and the sensors; resources by V2L_ENV (orchestration/environments.py)."""

from __future__ import annotations

import dagster as dg

from orchestration.data_assets import DATA_ASSETS
from orchestration.data_checks import DATA_CHECKS
from orchestration.environments import environment
from orchestration.jobs import JOBS, weekly_retrain_schedule
from orchestration.library_assets import LIBRARY_ASSETS
from orchestration.library_checks import LIBRARY_CHECKS
from orchestration.model_assets import MODEL_ASSETS
from orchestration.model_checks import MODEL_CHECKS
from orchestration.pretrain_assets import PRETRAIN_ASSETS
from orchestration.pretrain_checks import PRETRAIN_CHECKS
from orchestration.pretrain_jobs import tiny_world_job
from orchestration.sensors import make_sensors

ASSETS = [*DATA_ASSETS, *MODEL_ASSETS, *LIBRARY_ASSETS, *PRETRAIN_ASSETS]
CHECKS = [*DATA_CHECKS, *MODEL_CHECKS, *LIBRARY_CHECKS, *PRETRAIN_CHECKS]


def build_definitions(
    env_name: str | None = None, root: str | None = None, resources: dict | None = None
) -> dg.Definitions:
    """The Definitions of environment `env_name` (default V2L_ENV); `resources` replace some of its resources."""
    env = environment(env_name, root)
    return dg.Definitions(
        assets=ASSETS,
        asset_checks=CHECKS,
        jobs=[*JOBS, tiny_world_job],
        schedules=[weekly_retrain_schedule(env.schedule_status)],
        sensors=make_sensors(env.sensor_status),
        resources={**env.resources, **(resources or {})},
    )


defs = build_definitions()
