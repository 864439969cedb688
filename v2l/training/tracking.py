"""Experiment tracking: MLflow on rank 0, with every metric also kept in a local JSON-lines file.

If the tracking server cannot be reached, training goes on: one warning, then local metrics only. Runs open
through `v2l.mlflow_store.start_run`: artifacts under the job's storage, the v2l command as the run's source.
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

from v2l.mlflow_store import start_run


class Tracker:
    def __init__(
        self,
        uri: str,
        experiment: str,
        run_name: str,
        local_dir: Path,
        enabled: bool = True,
        storage: str | Path | None = None,
        source: str | None = None,
    ):
        """`storage` holds a new experiment's artifacts (default `local_dir`); `source` is the command that
        started the job (default this process's command line: pass the driver's from a Ray worker)."""
        self.local = Path(local_dir) / "metrics.jsonl"
        self.local.parent.mkdir(parents=True, exist_ok=True)
        self.enabled, self.run_id, self._mlflow = enabled, None, None
        if not enabled:
            return
        if uri.startswith("http"):
            # Fail fast instead of mlflow's default minutes of retries against a dead server.
            os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
            os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "5")
        try:
            import mlflow

            self.run_id = start_run(uri, experiment, run_name, storage or local_dir, source).info.run_id
            self._mlflow = mlflow
        except Exception as exc:  # unreachable server, bad URI, locked store: never stop training for it
            self._disable(
                f"MLflow tracking at {uri} is unavailable ({type(exc).__name__}: {exc}); "
                f"training continues and keeps metrics in {self.local}"
            )

    def _disable(self, message: str) -> None:
        if self._mlflow is not None or self.enabled:
            warnings.warn(message, RuntimeWarning, stacklevel=3)
        self.enabled, self._mlflow = False, None

    def _call(self, fn: str, *args, **kwargs) -> None:
        if self._mlflow is None:
            return
        try:
            getattr(self._mlflow, fn)(*args, **kwargs)
        except Exception as exc:
            self._disable(f"MLflow {fn} failed ({type(exc).__name__}: {exc}); keeping metrics in {self.local} only")

    def params(self, params: dict[str, str]) -> None:
        self._call("log_params", params)

    def metrics(self, metrics: dict[str, float], step: int) -> None:
        with self.local.open("a") as f:
            f.write(json.dumps({"step": step, **metrics}) + "\n")
        self._call("log_metrics", metrics, step=step)

    def artifact(self, path: str | Path, artifact_path: str | None = None) -> None:
        self._call("log_artifact", str(path), artifact_path)

    def artifacts(self, directory: str | Path, artifact_path: str | None = None) -> None:
        """Every file of `directory`, under `artifact_path`."""
        self._call("log_artifacts", str(directory), artifact_path)

    def tag(self, key: str, value: str) -> None:
        self._call("set_tag", key, value)

    def close(self, status: str = "FINISHED") -> None:
        self._call("end_run", status)
