"""Jobs over the dataset-version graph, and the weekly retraining schedule."""

from __future__ import annotations

import dagster as dg

from orchestration.data_assets import GROUP as DATA
from orchestration.library_assets import GROUP as LIBRARY
from orchestration.model_assets import GROUP as HYPERNET
from orchestration.partitions import dataset_version, newest_version

curate = dg.define_asset_job(
    "curate",
    selection=dg.AssetSelection.groups(DATA),
    partitions_def=dataset_version,
    description="Curate a dataset version's content and write its pair shards (and checks).",
)
train = dg.define_asset_job(
    "train",
    selection=dg.AssetSelection.assets("hypernet_checkpoint"),
    partitions_def=dataset_version,
    description="Train the hypernetwork on a version's shards (Ray Train).",
)
evaluate = dg.define_asset_job(
    "evaluate",
    selection=dg.AssetSelection.assets("hypernet_evaluation", "registered_hypernet"),
    partitions_def=dataset_version,
    description="Evaluate a version's checkpoint and register it behind the champion gate.",
)
build_library = dg.define_asset_job(
    "build_library",
    selection=dg.AssetSelection.groups(LIBRARY),
    partitions_def=dataset_version,
    description="Build a LoRA library (Ray Data) and index it.",
)
retrain = dg.define_asset_job(
    "retrain",
    selection=dg.AssetSelection.groups(HYPERNET),
    partitions_def=dataset_version,
    description="Train, evaluate and register on a version (the weekly schedule's job).",
)
full = dg.define_asset_job(
    "full",
    selection=dg.AssetSelection.groups(DATA, HYPERNET, LIBRARY),
    partitions_def=dataset_version,
    description="The whole graph for one dataset version: content to LoRA library.",
)

JOBS = [curate, train, evaluate, build_library, retrain, full]


def weekly_retrain_schedule(default_status: dg.DefaultScheduleStatus) -> dg.ScheduleDefinition:
    @dg.schedule(
        name="weekly_retrain",
        job=retrain,
        cron_schedule="0 3 * * 1",
        default_status=default_status,
        description="Mondays 03:00: retrain and evaluate on the newest dataset version.",
    )
    def weekly_retrain(context: dg.ScheduleEvaluationContext):
        key = newest_version(context.instance)
        if key is None:
            return dg.SkipReason("no dataset version yet: materialise the curate job or drop videos in the inbox")
        return dg.RunRequest(run_key=f"{key}:{context.scheduled_execution_time:%Y-%m-%d}", partition_key=key)

    return weekly_retrain
