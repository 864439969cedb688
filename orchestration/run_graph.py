"""Run the whole graph (`full` job) for one dataset version outside the daemon, on a persistent Dagster instance
whose runs the UI shows afterwards (`DAGSTER_HOME=<home> make ui`). `make demo` calls `run_full`."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import dagster as dg

from orchestration.definitions import build_definitions
from orchestration.partitions import base_version, dataset_version

log = logging.getLogger(f"v2l.{__name__}")  # under `v2l`: shown where v2l's messages are

ROOT = Path(__file__).resolve().parent.parent


def instance_at(home: str | Path) -> dg.DagsterInstance:
    """The Dagster instance in `home` (created with the project's dagster.yaml if new)."""
    home = Path(home).resolve()
    home.mkdir(parents=True, exist_ok=True)
    if not (home / "dagster.yaml").is_file():
        shutil.copyfile(ROOT / "dagster.yaml", home / "dagster.yaml")
    return dg.DagsterInstance.from_config(str(home))


def run_full(root: str | Path, home: str | Path, resources: dict | None = None, env: str = "dev") -> dict:
    """Materialise every asset of one dataset version (the corpus the settings describe) and return what each
    asset reported: {"run_id", "dataset_version", "assets": {asset: metadata}, "checks": {check: (passed, severity, metadata)}}."""

    defs = build_definitions(env, root=str(root), resources=resources)
    key = base_version(defs.resources["corpus"])
    with instance_at(home) as instance:
        if not instance.has_dynamic_partition(dataset_version.name, key):
            instance.add_dynamic_partitions(dataset_version.name, [key])
        log.info(f"dagster: job full, dataset version {key}, instance {Path(home).resolve()}")
        # INFO, not Dagster's default DEBUG: one line per asset's own messages, not one per engine event.
        result = defs.resolve_job_def("full").execute_in_process(
            instance=instance,
            partition_key=key,
            raise_on_error=True,
            run_config={"loggers": {"console": {"config": {"log_level": "INFO"}}}},
        )
        assets = {
            m.asset_key.to_user_string(): {k: v.value for k, v in m.materialization.metadata.items()}
            for m in result.get_asset_materialization_events()
        }
        checks = {
            e.check_name: (e.passed, e.severity.value, {k: v.value for k, v in e.metadata.items()})
            for e in result.get_asset_check_evaluations()
        }
        return {
            "run_id": result.run_id,
            "dataset_version": key,
            "assets": assets,
            "checks": checks,
            "mlflow": defs.resources["mlflow"].uri(),
        }
