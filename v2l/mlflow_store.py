"""Where a job's MLflow runs and their artifacts live, for every job the project runs (training, per-condition
LoRAs, library builds, evaluations).

- Tracking URIs are made absolute in the driver: a Ray worker's working directory is Ray's, not ours.
- Every experiment the project creates gets an explicit artifact location, `<storage>/mlruns`, where storage
  is the job's own (its run directory, or `ray.storage_path` on a cluster); a tracking server (http) keeps its
  own artifact store. An experiment that exists already keeps the location MLflow recorded for it.
- A run's source names the v2l command that ran it, not Ray's worker script.
"""

from __future__ import annotations

import shlex
import sys
import warnings
from pathlib import Path
from typing import Sequence

SOURCE_NAME_TAG = "mlflow.source.name"
SOURCE_TYPE_TAG = "mlflow.source.type"
REMOTE_SCHEMES = ("http://", "https://", "databricks")
MAX_SOURCE_CHARS = 500


def absolute_tracking_uri(uri: str) -> str:
    """`sqlite:///rel.db`, `file:rel` and bare paths made absolute against the current directory; server and
    other URIs unchanged."""
    if uri.startswith(REMOTE_SCHEMES):
        return uri
    if uri.startswith("sqlite:///"):
        path, sep, query = uri[len("sqlite:///") :].partition("?")
        if not path or path == ":memory:" or path.startswith("/"):
            return uri
        return f"sqlite:///{Path(path).resolve()}{sep}{query}"
    if uri.startswith("file:"):
        path = uri[len("file:") :]
        return uri if path.startswith("/") else Path(path).resolve().as_uri()
    if "://" not in uri:  # a bare local path: MLflow's file store
        return Path(uri).resolve().as_uri()
    return uri


def artifact_location(storage: str | Path) -> str:
    """The artifact location of a new experiment whose runs keep their artifacts in `storage`."""
    storage = str(storage)
    if "://" in storage:
        return storage.rstrip("/") + "/mlruns"
    return (Path(storage).resolve() / "mlruns").as_uri()


def ensure_experiment(tracking_uri: str, name: str, storage: str | Path) -> str:
    """The id of experiment `name`, created with its artifacts under `storage` (or, on a tracking server, in
    the server's artifact store) if it does not exist yet. An existing experiment keeps the location it was
    created with (read from MLflow, never assumed); if that is a local folder outside `storage`, one warning
    says where its artifacts go."""
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=tracking_uri)
    existing = client.get_experiment_by_name(name)
    if existing is not None:
        _warn_if_elsewhere(existing, storage)
        return existing.experiment_id
    location = None if tracking_uri.startswith(REMOTE_SCHEMES) else artifact_location(storage)
    try:
        return client.create_experiment(name, artifact_location=location)
    except Exception:  # another process created it first: use theirs
        existing = client.get_experiment_by_name(name)
        if existing is None:
            raise
        return existing.experiment_id


def run_source(argv: Sequence[str] | None = None) -> str:
    """The command line that started this process, as a user would type it: `v2l train --config X`,
    `python -m pipelines.train_hypernet X`. Call it in the driver: a Ray worker's own is Ray's worker script."""
    argv = list(sys.orig_argv if argv is None else argv)
    words: list[str] = []
    if argv and Path(argv[0]).name.startswith("python"):
        rest = argv[1:]
        if rest[:2] == ["-m", "v2l.cli.main"]:
            words, rest = ["v2l"], rest[2:]
        elif rest[:1] == ["-m"]:
            words, rest = ["python", "-m", *rest[1:2]], rest[2:]
        elif rest:
            script = Path(rest[0])
            # A console script (`v2l`, `pytest`) by its name; any other script as given.
            words, rest = [script.name if script.parent == Path(argv[0]).parent else rest[0]], rest[1:]
        argv = rest
    elif argv:
        words, argv = [Path(argv[0]).name], argv[1:]
    source = shlex.join(words + list(argv))
    return source if len(source) <= MAX_SOURCE_CHARS else source[: MAX_SOURCE_CHARS - 3] + "..."


def source_tags(source: str, source_type: str = "LOCAL") -> dict[str, str]:
    """MLflow's own run-source tags (shown as the run's Source), which override what MLflow infers."""
    return {SOURCE_NAME_TAG: source, SOURCE_TYPE_TAG: source_type}


def start_run(tracking_uri: str, experiment: str, run_name: str, storage: str | Path, source: str | None = None):
    """Open an MLflow run (the active run of this process) in `experiment`, its artifacts under `storage`
    (see `ensure_experiment`), its source the v2l command (`run_source()` of this process unless given).
    Returns MLflow's ActiveRun."""
    import mlflow

    tracking_uri = absolute_tracking_uri(tracking_uri)
    mlflow.set_tracking_uri(tracking_uri)
    experiment_id = ensure_experiment(tracking_uri, experiment, storage)
    return mlflow.start_run(experiment_id=experiment_id, run_name=run_name, tags=source_tags(source or run_source()))


def local_path(uri: str) -> Path | None:
    """The local folder of a `file:` URI or a plain path; None for remote stores."""
    if uri.startswith("file:"):
        from mlflow.utils.file_utils import local_file_uri_to_path

        return Path(local_file_uri_to_path(uri))
    return Path(uri) if "://" not in uri and ":" not in uri.split("/", 1)[0] else None


def _warn_if_elsewhere(experiment, storage: str | Path) -> None:
    where = local_path(experiment.artifact_location)
    if where is None or "://" in str(storage):
        return
    root = Path(storage).resolve()
    if where.resolve() == root / "mlruns" or root in where.resolve().parents:
        return
    warnings.warn(
        f"MLflow experiment {experiment.name!r} keeps its artifacts in {experiment.artifact_location} "
        f"(chosen when it was created), not under {root}; to keep this run's artifacts with the run, "
        f"use a new experiment name (tracking.experiment)",
        RuntimeWarning,
        stacklevel=3,
    )
