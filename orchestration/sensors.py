"""Sensors: (a) new videos in the inbox start a new dataset version and its curation; (b) a library request file
starts a library build and is moved to done/ or failed/ with its run id; (c) a successful training run starts its
evaluation.

Folders (under the `paths` resource's root): `inbox/` (videos, optionally labels.csv, as a content folder of
`v2l data build`), `requests/*.json` -> `requests/running/` -> `requests/done/` or `requests/failed/`."""

import hashlib
import json
from pathlib import Path

import dagster as dg

from orchestration.jobs import build_library, curate, evaluate, train
from orchestration.library_assets import LibraryRequest
from orchestration.partitions import content_root, dataset_version, newest_version
from orchestration.resources import CorpusSettings, PlatformPaths
from v2l.atomic import write_text_atomic

REQUEST_TAG = "v2l/library_request"
REQUEST_KEYS = {"references", "formats", "checkpoint", "model", "out", "dataset_version"}


def _write_json(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text_atomic(path, json.dumps(data, indent=2, sort_keys=True) + "\n")


def _file_to(src: Path, dest_dir: Path, record: dict) -> Path:
    """`src` moves to `dest_dir` as a JSON of the request and its outcome (the run id, the status or error)."""
    try:
        request = json.loads(src.read_text("utf-8"))
    except (ValueError, UnicodeDecodeError):
        request = {"unreadable": src.read_text("utf-8", errors="replace")}
    dest = dest_dir / src.name
    _write_json(dest, {"request": request.get("request", request), **record})
    src.unlink()
    return dest


def parse_request(path: Path) -> dict:
    """The run config of a library request file, or ValueError naming what is wrong."""

    try:
        data = json.loads(path.read_text("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path.name} is not JSON ({exc})") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path.name} must be a JSON object with keys among {sorted(REQUEST_KEYS)}")
    unknown = sorted(set(data) - REQUEST_KEYS)
    if unknown:
        raise ValueError(f"{path.name}: unknown keys {unknown}; use {sorted(REQUEST_KEYS)}")
    if not data.get("references"):
        raise ValueError(f"{path.name}: name the references (a folder of videos, a list file or a manifest.json)")
    if data.get("checkpoint") and data.get("model"):
        raise ValueError(f"{path.name}: name a checkpoint or a model alias, not both")
    if isinstance(data.get("formats"), str):
        data["formats"] = [f.strip() for f in data["formats"].split(",") if f.strip()]
    config = {k: data[k] for k in REQUEST_KEYS - {"dataset_version"} if data.get(k) is not None}
    LibraryRequest(**config)  # type check
    return {"config": config, "dataset_version": data.get("dataset_version")}


def make_sensors(default_status: dg.DefaultSensorStatus) -> list:
    @dg.sensor(
        job=curate,
        minimum_interval_seconds=30,
        default_status=default_status,
        description="New or changed files in <root>/inbox: a new dataset version (content hash) and its curation run.",
    )
    def inbox_sensor(context: dg.SensorEvaluationContext, corpus: CorpusSettings, paths: PlatformPaths):
        import dataclasses

        from v2l.data.content_version import (  # lazy: pulls in torch via v2l.data.content_version; keeps orchestration.definitions light
            content_version,
            folder_digest,
            snapshot,
        )

        inbox = Path(paths.of("inbox"))
        if not folder_digest(inbox):
            return dg.SkipReason(f"no files in {inbox}")
        cfg = corpus.config()
        key = content_version(dataclasses.replace(cfg, content_dirs=(*cfg.content_dirs, str(inbox))))
        if context.instance.has_dynamic_partition(dataset_version.name, key):
            return dg.SkipReason(f"dataset version {key} (the inbox as it is) exists already")
        frozen = snapshot(inbox, content_root(corpus.out_dir, key))
        context.log.info(f"new dataset version {key}: content frozen in {frozen}")
        # Added here rather than as a SensorResult request: the run request's partition must exist when it is checked.
        context.instance.add_dynamic_partitions(dataset_version.name, [key])
        return dg.RunRequest(run_key=key, partition_key=key)

    @dg.sensor(
        job=build_library,
        minimum_interval_seconds=15,
        default_status=default_status,
        description="<root>/requests/*.json (references, formats, checkpoint or model): a library build; "
        "the file moves to running/, then done/ or failed/ with the run id.",
    )
    def library_request_sensor(context: dg.SensorEvaluationContext, paths: PlatformPaths):
        root = Path(paths.of("requests"))
        for f in sorted((root / "running").glob("*.json")):  # settle the requests whose run has finished
            runs = context.instance.get_runs(filters=dg.RunsFilter(tags={REQUEST_TAG: f.name}), limit=1)
            if runs and runs[0].is_finished:
                status = runs[0].status.value
                where = "done" if runs[0].is_success else "failed"
                _file_to(f, root / where, {"run_id": runs[0].run_id, "status": status})
                context.log.info(f"library request {f.name}: run {runs[0].run_id} {status} -> {where}/")
        requests = []
        for f in sorted(root.glob("*.json")) if root.is_dir() else []:
            try:
                parsed = parse_request(f)
                key = parsed["dataset_version"] or newest_version(context.instance)
                if key is None:
                    raise ValueError("no dataset version exists yet: run the curate job first")
                if not context.instance.has_dynamic_partition(dataset_version.name, key):
                    raise ValueError(f"dataset_version {key!r} is not a known version")
            except ValueError as exc:
                _file_to(f, root / "failed", {"run_id": None, "status": "REJECTED", "error": str(exc)})
                context.log.warning(f"library request {f.name} rejected: {exc}")
                continue
            digest = hashlib.sha256(f.read_bytes()).hexdigest()[:12]
            requests.append(
                dg.RunRequest(
                    run_key=f"{f.name}:{digest}",
                    partition_key=key,
                    tags={REQUEST_TAG: f.name},
                    run_config={"ops": {"lora_library": {"config": parsed["config"]}}},
                )
            )
            _write_json(root / "running" / f.name, {"request": json.loads(f.read_text("utf-8"))})
            f.unlink()
        return requests or dg.SkipReason(f"no new request in {root}")

    @dg.run_status_sensor(
        run_status=dg.DagsterRunStatus.SUCCESS,
        monitored_jobs=[train],
        request_job=evaluate,
        default_status=default_status,
        name="evaluate_after_training",
        description="A successful training run starts the evaluation of its dataset version.",
    )
    def evaluate_after_training(context: dg.RunStatusSensorContext):
        key = context.dagster_run.tags.get("dagster/partition")
        if key is None:
            return dg.SkipReason("the training run has no dataset version")
        return dg.RunRequest(run_key=f"evaluate:{context.dagster_run.run_id}", partition_key=key)

    return [inbox_sensor, library_request_sensor, evaluate_after_training]
