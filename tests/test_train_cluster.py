"""The training job on an existing multi-node Ray cluster (`ray start --head` + a worker node on this machine),
joined through RAY_ADDRESS as a user's cluster would be (Ray gives its nodes the machine's address)."""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import pytest

pytestmark = pytest.mark.integration

SMOKE = Path(__file__).resolve().parent / "configs" / "tiny-smoke.yaml"
RAY = str(Path(sys.executable).with_name("ray"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_node(args: list[str], env: dict, log: Path) -> subprocess.Popen:
    """`ray start --block` keeps the node's processes under one parent, so the test can stop exactly them."""
    with log.open("w") as out:
        proc = subprocess.Popen(
            [RAY, "start", "--block", *args], env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    deadline = time.monotonic() + 120
    while "Ray runtime started" not in log.read_text():
        if proc.poll() is not None or time.monotonic() > deadline:
            _stop_nodes([proc])
            pytest.fail(f"ray start {' '.join(args)} did not come up:\n{log.read_text()[-2000:]}")
        time.sleep(0.5)
    return proc


def _stop_nodes(procs: list[subprocess.Popen]) -> None:
    """SIGTERM to this test's nodes and everything they started (never `ray stop`: it stops every Ray on the
    machine), then SIGKILL what is left."""
    tree = []
    for proc in procs:
        try:
            root = psutil.Process(proc.pid)
            tree += [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            pass
    for p in tree:
        try:
            p.terminate()
        except psutil.NoSuchProcess:
            pass
    _, alive = psutil.wait_procs(tree, timeout=30)
    for p in alive:
        try:
            p.kill()
        except psutil.NoSuchProcess:
            pass
    for proc in procs:
        proc.wait(timeout=30)


@pytest.fixture()
def two_node_cluster(tmp_path):
    port = _free_port()
    env = {**os.environ, "RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0"}
    temp = tempfile.mkdtemp(prefix="v2l-ray-", dir="/tmp")  # this cluster's own session folder (short paths)
    common = ["--num-cpus=1", "--node-ip-address=127.0.0.1", "--disable-usage-stats", f"--temp-dir={temp}"]
    nodes = [
        _start_node(["--head", f"--port={port}", "--include-dashboard=false", *common], env, tmp_path / "head.log")
    ]
    try:
        nodes.append(_start_node([f"--address=127.0.0.1:{port}", *common], env, tmp_path / "worker.log"))
        yield f"127.0.0.1:{port}"
    finally:
        _stop_nodes(nodes)
        shutil.rmtree(temp, ignore_errors=True)


def test_training_runs_across_two_nodes(tmp_path, two_node_cluster, monkeypatch):
    import ray

    from v2l.training.config import load_config
    from v2l.training.ray_fit import fit

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
    assert (tmp_path / "shared" / "checkpoints" / "step-00000002" / "model.safetensors").is_file()
