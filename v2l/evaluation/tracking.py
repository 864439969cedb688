"""An evaluation as an MLflow run: params (checkpoint hash, split, seeds, steps), every aggregated metric with its
interval, and the output files as artifacts; with `register`, the registry's champion gate."""

from __future__ import annotations

import logging
import re
from pathlib import Path

from v2l.atomic import write_text_atomic
from v2l.evaluation.report import report_markdown, write_summary
from v2l.mlflow_store import absolute_tracking_uri, start_run
from v2l.registry import register_evaluation

log = logging.getLogger(__name__)


def tracking_uri_for(out: Path, tracking_uri: str | None) -> str:
    """The evaluation's store, made absolute in the driver: `tracking_uri`, else MLFLOW_TRACKING_URI, else a sqlite
    file in `out`."""
    import os

    return absolute_tracking_uri(
        tracking_uri or os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{(Path(out) / 'mlflow.db').resolve()}"
    )


def _metric_name(*parts: str) -> str:
    """MLflow allows letters, digits and `_ - . / space`."""
    return re.sub(r"[^A-Za-z0-9_\-./ ]", "_", ".".join(parts))


def flat_metrics(summary: dict) -> dict[str, float]:
    """Every mean and interval bound: overall and per family; per semantic, the means."""
    out: dict[str, float] = {}

    def put(prefix: tuple[str, ...], stats: dict, bounds: bool = True) -> None:
        for metric, s in stats.items():
            if s["n"]:
                out[_metric_name(*prefix, metric)] = s["mean"]
                if bounds:
                    out[_metric_name(*prefix, metric, "ci_low")] = s["ci95"][0]
                    out[_metric_name(*prefix, metric, "ci_high")] = s["ci95"][1]

    for split, result in summary["splits"].items():
        for arm, entry in result["arms"].items():
            put((split, arm), entry["all"])
            for fam, stats in entry.get("per_family", {}).items():
                put((split, arm, "family", fam), stats)
            for sem, stats in entry.get("per_semantic", {}).items():
                put((split, arm, "semantic", sem), stats, bounds=False)
        for key, g in result.get("guard", {}).items():
            put((split, "guard"), {key: g})
    out["videos_per_second"] = summary["throughput"]["videos_per_second"] or 0.0
    return {k: float(v) for k, v in out.items() if v == v and abs(v) != float("inf")}


def log_evaluation(cfg, summary: dict, checkpoint: Path | None) -> str:
    """Logs the run (and registers the model when cfg.register); writes the run id and registry decision into
    summary.json. Returns the run id."""
    import mlflow

    out = Path(cfg.out)
    uri = tracking_uri_for(out, cfg.tracking_uri)
    client = mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri)
    # The project's one way to open a run: a new experiment keeps its artifacts under this evaluation's folder
    # (`OUT/mlruns`), and the run's source is the v2l command that ran it.
    with start_run(uri, cfg.experiment, f"eval-{cfg.split}-{summary['model']['version'][:8]}", storage=out) as active:
        run_id = _log_run(client, active.info, cfg, summary, checkpoint)
    log.info(f"MLflow run {run_id} in {uri}")
    return run_id


def _log_run(client, info, cfg, summary: dict, checkpoint: Path | None) -> str:
    out, run_id, uri = Path(cfg.out), info.run_id, client.tracking_uri
    params = {
        "checkpoint_sha256": summary["model"]["version"],
        "source": summary["model"]["source"],
        "split": cfg.split,
        "seed": cfg.seed,
        "steps": cfg.steps,
        "batch": cfg.batch,
        "per_semantic": cfg.per_semantic,
        "zeroshot_per_semantic": cfg.zeroshot_per_semantic,
        "arms": ",".join(cfg.arms),
        "clip_scorer": summary["clip_scorer"],
        "workers": cfg.workers,
        "semantics": ",".join(cfg.semantics or []) or "all",
        "model_spec": cfg.model or "",
    }
    for k, v in params.items():
        client.log_param(run_id, k, str(v)[:6000])
    metrics = flat_metrics(summary)
    from mlflow.entities import Metric

    stamp = int(info.start_time)
    items = [Metric(k, v, stamp, 0) for k, v in sorted(metrics.items())]
    for i in range(0, len(items), 900):  # the store takes at most 1,000 metrics per batch
        client.log_batch(run_id, metrics=items[i : i + 900])
    summary["mlflow"] = {"tracking_uri": uri, "experiment_id": info.experiment_id, "run_id": run_id}
    if cfg.register_model:
        summary["registry"] = register_evaluation(client, run_id, summary, checkpoint)
        log.info(
            f"registry: {summary['registry']['name']} version {summary['registry']['version']} -> "
            f"{summary['registry']['alias']} ({summary['registry']['reason']})"
        )

        write_text_atomic(out / "report.md", report_markdown(summary))
    write_summary(out / "summary.json", summary)
    for name in ("summary.json", "samples.jsonl", "report.md"):
        client.log_artifact(run_id, str(out / name))
    for folder in ("contact_sheets", "charts", "videos"):
        if (out / folder).is_dir():
            client.log_artifacts(run_id, str(out / folder), folder)
    return run_id
