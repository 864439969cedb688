"""Every server the project starts listens on loopback only: the private Ray instance (through a 2-step,
2-worker training) and the Dagster and MLflow UIs as `make ui` starts them (the same script)."""

from __future__ import annotations

import ipaddress
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import psutil
import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parent.parent
SMOKE = ROOT / "tests" / "configs" / "tiny-smoke.yaml"


def listening(roots: list[int]) -> dict[tuple[int, str, int], str]:
    """{(pid, ip, port): process name} for every listening TCP socket of `roots` and their descendants."""
    found = {}
    procs = []
    for pid in roots:
        try:
            root = psutil.Process(pid)
            procs += [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            pass
    for proc in procs:
        try:
            name = " ".join(proc.cmdline())[:100] or proc.name()
            for conn in proc.net_connections(kind="inet"):
                if conn.status == psutil.CONN_LISTEN:
                    found[(proc.pid, conn.laddr.ip, conn.laddr.port)] = name
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            pass
    return found


def is_loopback(ip: str) -> bool:
    address = ipaddress.ip_address(ip.split("%", 1)[0])
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


def exposed(found: dict) -> list[str]:
    return [
        f"{name} (pid {pid}) on {ip}:{port}" for (pid, ip, port), name in sorted(found.items()) if not is_loopback(ip)
    ]


def test_loopback_check_itself_flags_wildcard_and_routable_addresses():
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("::ffff:127.0.0.1")
    assert not is_loopback("0.0.0.0") and not is_loopback("::") and not is_loopback("192.0.2.2")


def test_local_ray_training_listens_on_loopback_only(tmp_path):
    import ray

    from v2l import ray_cluster
    from v2l.training.config import load_config
    from v2l.training.ray_fit import fit

    if ray.is_initialized():  # another module's cluster: this test needs one started the project's way
        ray.shutdown()
    found: dict = {}
    done = threading.Event()

    def watch():  # servers come and go during a run (Train controller, workers, the process-group store)
        while not done.is_set():
            found.update(listening([os.getpid()]))
            time.sleep(0.5)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    cfg = load_config(
        SMOKE, run_dir=str(tmp_path / "run"), max_steps=2, checkpoint_every=2, ray={"workers": 2, "max_failures": 0}
    )
    try:
        result = fit(cfg)
        found.update(listening([os.getpid()]))
    finally:
        done.set()
        watcher.join()
        ray_cluster.shutdown()
    assert result.error is None and result.metrics["step"] == 2
    names = " ".join(found.values())
    for server in ("gcs_server", "raylet", "RuntimeEnvAgent", "TrainController", "RayTrainWorker"):
        assert server in names, f"{server} was never seen listening: the check did not see the cluster"
    assert not exposed(found), "listening beyond loopback: " + "; ".join(exposed(found))


def _read_lines(stream, lines: queue.Queue) -> None:
    for line in stream:
        lines.put(line)


def test_ui_servers_listen_on_loopback_only_and_stop_cleanly(tmp_path):
    home = tmp_path / "dagster"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    env = {**os.environ, "DAGSTER_HOME": str(home), "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "scripts" / "ui.py"),
            "--mlflow-store",
            f"sqlite:///{tmp_path / 'mlflow.db'}",
            "--mlflow-artifacts",
            str(tmp_path / "mlartifacts"),
        ],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=_read_lines, args=(proc.stdout, lines), daemon=True).start()
    urls, seen, tree = {}, [], []
    try:
        deadline = time.monotonic() + 300
        while "Ctrl-C stops both." not in seen:
            assert proc.poll() is None, "scripts/ui.py exited early:\n" + "".join(seen)[-3000:]
            assert time.monotonic() < deadline, "the UIs did not come up:\n" + "".join(seen)[-3000:]
            try:
                line = lines.get(timeout=1)
            except queue.Empty:
                continue
            seen.append(line.strip())
            for name in ("Dagster UI", "MLflow UI"):
                if line.startswith(f"{name}: "):
                    urls[name] = line.split(": ", 1)[1].strip()
        tree = [psutil.Process(proc.pid), *psutil.Process(proc.pid).children(recursive=True)]
        found = listening([proc.pid])
        for name, url in urls.items():
            with urllib.request.urlopen(url, timeout=10) as reply:
                assert reply.status == 200, name
            port = int(url.rsplit(":", 1)[1])
            assert any(p == port for (_, _, p) in found), f"{name}'s port {port} is not among {found}"
        assert set(urls) == {"Dagster UI", "MLflow UI"} and all("//127.0.0.1:" in u for u in urls.values())
        assert not exposed(found), "listening beyond loopback: " + "; ".join(exposed(found))
    finally:
        proc.send_signal(signal.SIGINT)  # what Ctrl-C on `make ui` does
        try:
            rc = proc.wait(timeout=120)
        finally:
            leftovers = [p for p in tree if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
            for p in leftovers:  # never leave our own servers behind, even when the test fails
                p.kill()
    assert rc == 0
    assert len(tree) >= 4, f"expected dagster dev's webserver, code server and daemon and mlflow: {tree}"
    assert not leftovers, f"still running after Ctrl-C: {leftovers}"
