"""The training job on an existing multi-node Ray cluster (`ray start --head` + a worker node on loopback)."""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

SMOKE = Path(__file__).resolve().parent.parent / "pipelines" / "configs" / "tiny-smoke.yaml"
RAY = str(Path(sys.executable).with_name("ray"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture()
def two_node_cluster(tmp_path):
    port = _free_port()
    env = {**os.environ, "RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0"}
    common = ["--num-cpus=1", "--node-ip-address=127.0.0.1", "--disable-usage-stats"]
    subprocess.run([RAY, "start", "--head", f"--port={port}", "--include-dashboard=false", *common], env=env,
                   check=True, capture_output=True, timeout=120)
    try:
        subprocess.run([RAY, "start", f"--address=127.0.0.1:{port}", *common], env=env, check=True,
                       capture_output=True, timeout=120)
        yield f"127.0.0.1:{port}"
    finally:
        subprocess.run([RAY, "stop", "--force"], env=env, capture_output=True, timeout=120)


def test_training_runs_across_two_nodes(tmp_path, two_node_cluster, monkeypatch):
    import ray

    from pipelines.train_hypernet import fit
    from v2l.training.config import load_config

    monkeypatch.setenv("RAY_ADDRESS", two_node_cluster)
    monkeypatch.setenv("V2L_PID_FILE", str(tmp_path / "worker.pid"))
    cfg = load_config(SMOKE, run_dir=str(tmp_path / "shared"), max_steps=2, ray={"workers": 2, "max_failures": 0})
    try:
        result = fit(cfg)
        assert len([n for n in ray.nodes() if n["Alive"]]) == 2
    finally:
        ray.shutdown()
    assert result.error is None and result.metrics["step"] == 2
    nodes = {json.loads((tmp_path / f"worker.rank{r}").read_text())["node"] for r in (0, 1)}
    assert len(nodes) == 2, "each worker should run on its own node (one CPU each)"
    assert (tmp_path / "shared" / "checkpoints" / "step-00000002" / "weights.safetensors").is_file()
