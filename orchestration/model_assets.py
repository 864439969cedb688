"""The hypernetwork's assets, per dataset version: hypernet_checkpoint (Ray Train) -> hypernet_evaluation (the
evaluation job on Ray actors) -> registered_hypernet (the registry's champion gate).

Each asset calls the function its command calls (`v2l.training.ray_fit.fit`, `v2l.evaluation.ray_actors.run`,
`v2l.registry.register_evaluation`); this module only fills in where this partition's files go."""

import json
from pathlib import Path

import dagster as dg

from orchestration.logs import to_run_log
from orchestration.partitions import dataset_version
from orchestration.resources import EvalSettings, MlflowResource, PlatformPaths, RayResource, TrainSettings

GROUP = "hypernet"


def _training_run_id(mlflow: MlflowResource, experiment: str, checkpoint: Path):
    client = mlflow.client()
    exp = client.get_experiment_by_name(experiment)
    if exp is None:
        return None
    runs = client.search_runs(
        [exp.experiment_id],
        f"tags.final_checkpoint = '{checkpoint.resolve()}'",
        max_results=1,
        order_by=["attributes.start_time DESC"],
    )
    return runs[0].info.run_id if runs else None


@dg.asset(
    group_name=GROUP,
    partitions_def=dataset_version,
    pool="heavy",
    description="A hypernetwork checkpoint trained on this version's shards by Ray Train (the training config "
    "is the `train` resource's, editable in the launchpad).",
)
def hypernet_checkpoint(
    context: dg.AssetExecutionContext,
    pair_shards: str,
    train: TrainSettings,
    ray: RayResource,
    mlflow: MlflowResource,
    paths: PlatformPaths,
) -> str:
    from v2l.training.checkpoints import (
        latest_checkpoint,  # lazy: pulls in torch via v2l.training.checkpoints; keeps orchestration.definitions light
    )
    from v2l.training.ray_fit import (
        fit,  # lazy: pulls in torch via v2l.training.ray_fit; keeps orchestration.definitions light
    )

    cfg = train.train_config(
        paths.of("train", context.partition_key), str(Path(pair_shards).parent), mlflow.uri(), ray.address
    )
    ray.connect()
    context.log.info(f"training {cfg.name} for {cfg.max_steps} steps on {cfg.ray.workers} Ray worker(s)")
    fit(cfg, resume=train.resume, command=f"dagster asset hypernet_checkpoint --partition {context.partition_key}")
    checkpoint = latest_checkpoint(cfg.run_dir / "checkpoints")
    if checkpoint is None:
        raise dg.Failure(f"training wrote no checkpoint under {cfg.run_dir / 'checkpoints'}")
    state = json.loads((checkpoint / "state.json").read_text())
    run_id = _training_run_id(mlflow, cfg.tracking.experiment, checkpoint)
    context.add_output_metadata(
        {
            "checkpoint": str(checkpoint),
            "config": train.config,
            "step": state["step"],
            "dataset_version": context.partition_key,
            "mlflow_run_id": run_id or "",
            "mlflow_tracking_uri": mlflow.uri(),
            "run_dir": str(cfg.run_dir),
        }
    )
    return str(checkpoint)


@dg.asset(
    group_name=GROUP,
    partitions_def=dataset_version,
    pool="heavy",
    description="The evaluation job on the checkpoint (seen and zero-shot splits): summary.json, report.md, "
    "samples.jsonl and an MLflow run.",
)
def hypernet_evaluation(
    context: dg.AssetExecutionContext,
    hypernet_checkpoint: str,
    evaluation: EvalSettings,
    ray: RayResource,
    mlflow: MlflowResource,
    paths: PlatformPaths,
) -> dict:
    from v2l.evaluation.ray_actors import (
        run,  # lazy: pulls in torch via v2l.evaluation.ray_actors; keeps orchestration.definitions light
    )
    from v2l.registry import (
        headline_tags,  # lazy: pulls in torch via v2l.registry; keeps orchestration.definitions light
    )

    cfg = evaluation.eval_config(
        hypernet_checkpoint, paths.of("eval", context.partition_key), mlflow.uri(), ray.address
    )
    if cfg.workers:
        ray.connect()
    with to_run_log(context):
        summary = run(cfg)
    headline = headline_tags(summary)
    context.add_output_metadata(
        {
            "report": str(Path(cfg.out) / "report.md"),
            "summary": str(Path(cfg.out) / "summary.json"),
            "mlflow_run_id": summary["mlflow"]["run_id"],
            "checkpoint": hypernet_checkpoint,
            "dataset_version": context.partition_key,
            **{k: float(v) for k, v in headline.items()},
        }
    )
    return summary


@dg.asset(
    group_name=GROUP,
    partitions_def=dataset_version,
    description="The checkpoint as a version of the registered model v2l-hypernet: alias champion when it "
    "beats the current champion (the registry's gate), else challenger.",
)
def registered_hypernet(
    context: dg.AssetExecutionContext, hypernet_evaluation: dict, hypernet_checkpoint: str, mlflow: MlflowResource
) -> dict:
    from v2l.registry import (
        register_evaluation,  # lazy: pulls in torch via v2l.registry; keeps orchestration.definitions light
    )

    decision = register_evaluation(
        mlflow.client(), hypernet_evaluation["mlflow"]["run_id"], hypernet_evaluation, Path(hypernet_checkpoint)
    )
    decision["model_uri"] = f"models:/{decision['name']}/{decision['version']}"
    context.log.info(
        f"registry: {decision['name']} version {decision['version']} -> {decision['alias']} ({decision['reason']})"
    )
    context.add_output_metadata(
        {**{k: v for k, v in decision.items() if v is not None}, "dataset_version": context.partition_key}
    )
    return decision


MODEL_ASSETS = [hypernet_checkpoint, hypernet_evaluation, registered_hypernet]
