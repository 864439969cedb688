"""MLflow artifacts live where the run lives: a 2-step training on the private Ray instance logs every artifact
under its run directory (none in Ray's temp folder), its source is the command, its checkpoint an artifact."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from v2l.mlflow_store import absolute_tracking_uri, local_path, run_source

pytestmark = pytest.mark.integration

SMOKE = Path(__file__).resolve().parent / "configs" / "tiny-smoke.yaml"


def _artifact_files(client, run_id: str, path: str | None = None) -> list[str]:
    files = []
    for info in client.list_artifacts(run_id, path):
        files += _artifact_files(client, run_id, info.path) if info.is_dir else [info.path]
    return files


@pytest.fixture()
def private_ray():
    """A Ray instance with its own temp folder, so the test can see what was written there."""
    import ray

    from v2l import ray_cluster

    if ray.is_initialized():
        ray.shutdown()
    temp = tempfile.mkdtemp(prefix="v2l-ray-", dir="/tmp")  # short: Ray's socket paths live under it
    ray_cluster.connect(num_cpus=2, temp_dir=temp)
    try:
        yield Path(temp)
    finally:
        ray_cluster.shutdown()
        shutil.rmtree(temp, ignore_errors=True)


def test_training_artifacts_live_under_the_run_directory(tmp_path, monkeypatch, private_ray):
    from mlflow import MlflowClient

    from v2l.training.config import load_config
    from v2l.training.ray_fit import fit

    monkeypatch.chdir(tmp_path)  # a relative store URI: it must reach the Ray worker made absolute
    store = "sqlite:///store/mlflow.db"
    (tmp_path / "store").mkdir()
    cfg = load_config(SMOKE, run_dir="run", max_steps=2, checkpoint_every=2, tracking={"uri": store})
    result = fit(cfg)
    assert result.error is None and result.metrics["step"] == 2

    client = MlflowClient(tracking_uri=absolute_tracking_uri(store))
    experiment = client.get_experiment_by_name("v2l-hypernet")
    assert experiment is not None, "the run did not reach the store named by the relative URI"
    run_dir = (tmp_path / "run").resolve()
    assert local_path(experiment.artifact_location) == run_dir / "mlruns"
    (run,) = client.search_runs([experiment.experiment_id])
    root = local_path(run.info.artifact_uri)
    files = _artifact_files(client, run.info.run_id)
    assert "config/train_config.json" in files
    assert {"checkpoint/step-00000002/model.safetensors", "checkpoint/step-00000002/config.json"} <= set(files)
    for f in files:
        path = root / f
        assert path.is_file() and run_dir in path.resolve().parents, f"{f} is not under the run directory"
    assert not list(private_ray.rglob("mlruns")), "something was written under Ray's temp folder's mlruns"

    tags = run.data.tags
    assert tags["mlflow.source.name"] == run_source() and "default_worker" not in tags["mlflow.source.name"]
    assert tags["mlflow.source.type"] == "LOCAL"
    assert tags["final_checkpoint_artifact"] == f"runs:/{run.info.run_id}/checkpoint/step-00000002"


def test_an_experiment_from_before_keeps_its_recorded_location(tmp_path):
    """An experiment created elsewhere (as before the fix, in a Ray session folder) is read, not replaced."""
    from mlflow import MlflowClient

    from v2l.training.config import load_config
    from v2l.training.trainer import run_training

    store = f"sqlite:///{tmp_path / 'mlflow.db'}"
    old = tmp_path / "ray" / "session_old" / "mlruns" / "1"
    MlflowClient(tracking_uri=store).create_experiment("v2l-hypernet", artifact_location=str(old))
    cfg = load_config(SMOKE, run_dir=str(tmp_path / "run"), max_steps=1, checkpoint_every=1, tracking={"uri": store})
    with pytest.warns(RuntimeWarning, match="keeps its artifacts in"):
        run_training(cfg, command="v2l train --config tiny-smoke.yaml")
    client = MlflowClient(tracking_uri=store)
    (run,) = client.search_runs([client.get_experiment_by_name("v2l-hypernet").experiment_id])
    assert local_path(run.info.artifact_uri).parent.parent == old
    assert (local_path(run.info.artifact_uri) / "checkpoint" / "step-00000001" / "model.safetensors").is_file()
    assert run.data.tags["mlflow.source.name"] == "v2l train --config tiny-smoke.yaml"


def test_tracking_uris_are_made_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert absolute_tracking_uri("sqlite:///m.db") == f"sqlite:///{tmp_path.resolve() / 'm.db'}"
    assert absolute_tracking_uri("sqlite:///m.db?timeout=5") == f"sqlite:///{tmp_path.resolve() / 'm.db'}?timeout=5"
    assert absolute_tracking_uri("sqlite:////abs/m.db") == "sqlite:////abs/m.db"
    assert absolute_tracking_uri("mlruns") == (tmp_path.resolve() / "mlruns").as_uri()
    assert absolute_tracking_uri("http://127.0.0.1:5000") == "http://127.0.0.1:5000"


def test_run_source_names_the_command_a_user_typed():
    py = "/venv/bin/python"
    assert run_source([py, "/venv/bin/v2l", "train", "--config", "a b.yaml"]) == "v2l train --config 'a b.yaml'"
    assert run_source([py, "-m", "v2l.cli.main", "demo"]) == "v2l demo"
    assert run_source([py, "-m", "pipelines.train_hypernet", "c.yaml"]) == "python -m pipelines.train_hypernet c.yaml"
    assert len(run_source([py, "-m", "dagster", "api", "x" * 2000])) <= 500
