"""The library build on an existing two-node Ray cluster (loopback), with RAY_ADDRESS and a shared output path."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

RAY = str(Path(sys.executable).with_name("ray"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stop(proc: subprocess.Popen) -> None:
    """Stop one node we started (its `ray start --block` process group), never anyone else's."""
    for sig, wait in ((signal.SIGTERM, 20), (signal.SIGKILL, 10)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


@pytest.fixture()
def two_nodes(tmp_path):
    port = _free_port()
    env = {
        **os.environ,
        "RAY_AUTH_MODE": "disabled",
        "RAY_USAGE_STATS_ENABLED": "0",
        "V2L_NODE_FILE": str(tmp_path / "actor-node"),
        "PYTHONPATH": str(Path(__file__).resolve().parent.parent),
    }
    common = ["--num-cpus=2", "--node-ip-address=127.0.0.1", "--disable-usage-stats", "--block"]
    nodes = []
    try:
        nodes.append(
            subprocess.Popen(
                [RAY, "start", "--head", f"--port={port}", "--include-dashboard=false", *common],
                env=env,
                start_new_session=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        time.sleep(8)
        nodes.append(
            subprocess.Popen(
                [RAY, "start", f"--address=127.0.0.1:{port}", *common],
                env=env,
                start_new_session=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        yield f"127.0.0.1:{port}"
    finally:
        for proc in reversed(nodes):
            _stop(proc)


def test_library_builds_on_an_existing_two_node_cluster(tmp_path, two_nodes, monkeypatch):
    import ray

    from v2l.library.config import LibraryBuildConfig
    from v2l.library.index import read_library
    from v2l.library.ray_build import build
    from v2l.video.io import write_video
    from v2l.video.sample import pan_clip

    refs = tmp_path / "refs"
    for name in ("astronaut", "coffee", "rocket", "horse"):
        write_video(refs / f"{name}.mp4", pan_clip(name))
    monkeypatch.setenv("RAY_ADDRESS", two_nodes)
    shared = tmp_path / "shared" / "lib"  # every node sees it: the same machine
    try:
        deadline = time.monotonic() + 120
        ray.init(address=two_nodes, log_to_driver=False)
        while len([n for n in ray.nodes() if n["Alive"]]) < 2 and time.monotonic() < deadline:
            time.sleep(1)
        assert len([n for n in ray.nodes() if n["Alive"]]) == 2
        ray.shutdown()  # the job connects by itself, through RAY_ADDRESS
        result = build(LibraryBuildConfig(references=refs, out=shared, workers=2, batch=1), progress=False)
    finally:
        ray.shutdown()
    assert result.counts["built"] == 4 and result.counts["quarantined"] == 0
    assert len(read_library(shared, must_exist=True).rows) == 4
    nodes = {p.read_text() for p in tmp_path.glob("actor-node.*")}
    assert len(nodes) == 2, f"the two actors should be spread over both nodes, got {nodes}"
