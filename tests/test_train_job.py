"""The hypernetwork training job: exact resume, checkpoints, MLflow (and its absence), Ray Train, fault tolerance."""

import json
import os
import signal
import threading
import time
from pathlib import Path

import pytest

from v2l.training.config import load_config
from v2l.training.trainer import run_training

pytestmark = pytest.mark.integration

SMOKE = Path(__file__).resolve().parent / "configs" / "tiny-smoke.yaml"


def _cfg(tmp_path, **over):
    return load_config(SMOKE, run_dir=str(tmp_path), **over)


def test_exact_resume_matches_the_uninterrupted_run(tmp_path):
    straight = run_training(_cfg(tmp_path / "a", max_steps=4))
    run_training(_cfg(tmp_path / "b", max_steps=2))
    resumed = run_training(_cfg(tmp_path / "b", max_steps=4))
    losses = {h["step"]: h["loss"] for h in straight["history"]}
    assert [h["step"] for h in resumed["history"]] == [3, 4]
    for h in resumed["history"]:
        assert h["loss"] == losses[h["step"]], f"step {h['step']} differs after resume"
    assert resumed["state"]["samples_seen"] == straight["state"]["samples_seen"] == 8


def test_checkpoints_keep_last_k_and_load_for_prediction(tmp_path, sample_paths):
    from v2l.inference.predict import write_lora
    from v2l.lora.files import load_compact
    from v2l.model import Video2LoRA

    result = run_training(_cfg(tmp_path, max_steps=6, checkpoint_every=2, keep_last=2))
    steps = sorted(p.name for p in (tmp_path / "checkpoints").glob("step-*"))
    assert steps == ["step-00000004", "step-00000006"]
    assert (tmp_path / "checkpoints" / "latest").read_text() == "step-00000006"
    assert not list((tmp_path / "checkpoints").glob(".tmp-*"))
    model = Video2LoRA.from_checkpoint(result["checkpoint"])  # a training checkpoint is a --checkpoint
    from v2l.inference.predict import predict_lora

    lora = predict_lora(model, sample_paths[0])
    assert lora.metadata["hypernet_sha256"] == model.version()
    back = load_compact(write_lora(tmp_path / "l.safetensors", lora, model, "compact"))
    assert back.metadata["hypernet_sha256"] == model.version() and back.A_pred.shape == lora.A_pred.shape
    rows = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2, 3, 4, 5, 6] and all("loss" in r for r in rows)


def test_unreachable_tracking_server_warns_once_and_keeps_metrics(tmp_path):
    cfg = _cfg(tmp_path, max_steps=2, tracking={"uri": "http://127.0.0.1:9", "log_every": 1})
    with pytest.warns(RuntimeWarning, match="MLflow") as record:
        result = run_training(cfg)
    assert len([w for w in record if "MLflow" in str(w.message)]) == 1
    assert result["state"]["step"] == 2
    assert len((tmp_path / "metrics.jsonl").read_text().splitlines()) == 2


@pytest.fixture(scope="module")
def ray_cluster():
    from v2l import ray_cluster

    ray_cluster.connect(num_cpus=3)
    yield
    ray_cluster.shutdown()


def test_ray_train_logs_to_mlflow(tmp_path, ray_cluster):
    import mlflow

    from v2l.training.ray_fit import fit

    cfg = _cfg(tmp_path, max_steps=4, checkpoint_every=2)
    result = fit(cfg)
    assert result.error is None and result.checkpoint is not None
    assert result.metrics["step"] == 4
    client = mlflow.MlflowClient(tracking_uri=cfg.tracking_uri)
    exp = client.get_experiment_by_name("v2l-hypernet")
    (run,) = client.search_runs([exp.experiment_id])
    assert run.data.params["optim.lr"] == "0.001" and run.data.params["batch_size"] == "2"
    assert len(client.get_metric_history(run.info.run_id, "loss")) == 4
    assert run.data.tags["final_checkpoint"].endswith("step-00000004")


def test_ray_two_workers_ddp(tmp_path, ray_cluster):
    from v2l.training.ray_fit import fit

    cfg = _cfg(tmp_path, max_steps=2, ray={"workers": 2, "max_failures": 0})
    result = fit(cfg)
    assert result.error is None
    state = json.loads((tmp_path / "checkpoints" / "step-00000002" / "state.json").read_text())
    assert state["samples_seen"] == 2 * 2 * 2  # steps x batch x workers


def test_ray_worker_killed_mid_run_finishes_from_checkpoint(tmp_path, ray_cluster, monkeypatch):
    from v2l.training.ray_fit import fit

    pid_file = tmp_path / "worker.pid"
    monkeypatch.setenv("V2L_PID_FILE", str(pid_file))
    cfg = _cfg(tmp_path / "run", max_steps=30, checkpoint_every=2, batch_size=1, ray={"workers": 1, "max_failures": 1})
    killed = {}

    def killer():
        deadline = time.time() + 240
        rank0 = pid_file.with_suffix(".rank0")
        while time.time() < deadline:
            if rank0.exists() and (tmp_path / "run" / "checkpoints" / "step-00000004").exists():
                pid = json.loads(rank0.read_text())["pid"]
                os.kill(pid, signal.SIGKILL)
                killed["pid"] = pid
                return
            time.sleep(0.2)

    thread = threading.Thread(target=killer)
    thread.start()
    result = fit(cfg)
    thread.join()
    assert killed, "the worker was never killed: the test did not exercise a failure"
    assert result.error is None and result.metrics["step"] == 30
    steps = [json.loads(line)["step"] for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert steps.count(steps[-1]) == 1 and steps[-1] == 30
    assert set(range(1, 31)) <= set(steps), "a step is missing from the metrics"
    import mlflow

    mlflow.set_tracking_uri(cfg.tracking_uri)
    names = set(mlflow.search_runs(experiment_names=[cfg.tracking.experiment])["tags.mlflow.runName"])
    resumed = [int(n.rsplit("-", 1)[1]) for n in names if n != "tiny-smoke-from-0"]
    # Ray restores the newest checkpoint its controller has registered, which under load can lag the newest
    # folder on disk by one report: a restart from any checkpoint (not from step 0) is what is asserted.
    assert "tiny-smoke-from-0" in names and resumed and min(resumed) >= 2, f"no restart from a checkpoint: {names}"
    assert json.loads(pid_file.with_suffix(".rank0").read_text())["pid"] != killed["pid"], "a new worker took over"


def test_staged_recipe_runs_its_three_stages_and_resumes_exactly(tmp_path):
    staged = {"codes_steps": 2, "distill_steps": 2}
    straight = run_training(_cfg(tmp_path / "a", recipe="staged", max_steps=6, staged=staged))
    hist = {h["step"]: h for h in straight["history"]}
    assert "distill_mse" in hist[3] and "reference_class_acc" in hist[4]  # stage 2: weight-space loss
    assert "distill_mse" not in hist[1] and "distill_mse" not in hist[6]  # stages 1 and 3: diffusion loss
    run_training(_cfg(tmp_path / "b", recipe="staged", max_steps=3, staged=staged))
    resumed = run_training(_cfg(tmp_path / "b", recipe="staged", max_steps=6, staged=staged))
    for h in resumed["history"]:
        assert h["loss"] == hist[h["step"]]["loss"], f"staged step {h['step']} differs after resume"


@pytest.fixture(scope="module")
def tiny_corpus(tmp_path_factory):
    from v2l.data.build import build_corpus
    from v2l.data.latent_cache import cache_latents

    out = tmp_path_factory.mktemp("corpus")
    build_corpus(out, pairs_per_semantic=1)
    cache_latents(out, "tiny")
    return out


@pytest.mark.parametrize("latent_cache", [False, True])
def test_training_from_corpus_shards_and_latent_cache(tmp_path, tiny_corpus, latent_cache):
    cfg = _cfg(tmp_path, max_steps=3, data={"corpus": str(tiny_corpus), "latent_cache": latent_cache})
    first = run_training(cfg.model_copy(update={"max_steps": 2}))
    resumed = run_training(cfg)
    straight = run_training(cfg.model_copy(update={"run_dir": tmp_path / "straight"}))
    assert first["state"]["step"] == 2 and resumed["state"]["step"] == 3
    assert resumed["history"][-1]["loss"] == straight["history"][-1]["loss"]
    assert all(0 < h["loss"] < 10 for h in straight["history"])


ROOT = Path(__file__).resolve().parent.parent
SHIPPED = [
    "cogvideox-5b-i2v.yaml",
    "data_tiny.yaml",
    "eval_tiny.yaml",
    "library_tiny.yaml",
    "tiny-staged-diverse-2w-512.yaml",
    "tiny.yaml",
]


def test_pipelines_configs_ship_only_what_a_user_runs():
    assert sorted(p.name for p in (ROOT / "pipelines" / "configs").glob("*.yaml")) == SHIPPED


@pytest.mark.parametrize(
    "path",
    [f"pipelines/configs/{n}" for n in SHIPPED if not n.startswith(("data_", "eval_", "library_"))]
    + sorted(f"experiments/{p.name}" for p in (ROOT / "experiments").glob("*.yaml"))
    + ["tests/configs/tiny-smoke.yaml"],
)
def test_every_training_config_validates(path):
    """A typo in a release or experiment config would otherwise surface only when its hour-long run starts."""
    cfg = load_config(ROOT / path)
    assert cfg.max_steps > 0 and cfg.run_dir.name == cfg.name


def test_an_experiment_is_its_base_with_the_differences_on_top():
    release = load_config(ROOT / "pipelines" / "configs" / "tiny-staged-diverse-2w-512.yaml")
    exp = load_config(ROOT / "experiments" / "tiny-staged-r4-2w.yaml")
    assert exp.lora.r == 4 and exp.hypernet.width == 150 and exp.data.clips_per_semantic == 256
    assert exp.hypernet.reference_pos_encoding and exp.staged == release.staged and exp.optim == release.optim
    assert exp.run_dir == Path("runs/train/tiny-staged-r4-2w")  # from its own name, not the base's
