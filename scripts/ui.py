"""`make ui`: the Dagster UI and the MLflow UI, on 127.0.0.1, until Ctrl-C stops both.

    python scripts/ui.py [--host 127.0.0.1] [--dagster-port 3000] [--mlflow-port 5000]
                         [--mlflow-store sqlite:///mlflow.db] [--mlflow-artifacts mlartifacts]

Ports: the given ones (or V2L_DAGSTER_PORT / V2L_MLFLOW_PORT), else 3000 / 5000 when free, else any free port.
Each server runs in its own process group (`dagster dev` starts a code server and a daemon beside its
webserver); SIGINT or SIGTERM stops every process of both groups, and nothing is left running.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the project's own library, whichever checkout this script is in
BIN = Path(sys.executable).parent
LOOPBACK = "127.0.0.1"
# How each server wants to be asked: `dagster dev` shuts its code server and daemon down on SIGINT (Ctrl-C);
# `mlflow server` and its uvicorn exit quietly on SIGTERM (SIGINT prints tracebacks).
STOP_SIGNALS = {"Dagster UI": signal.SIGINT, "MLflow UI": signal.SIGTERM}


def free_port(host: str, preferred: int) -> int:
    for port in (preferred, 0):
        with socket.socket() as s:
            try:
                s.bind((host, port))
            except OSError:
                continue
            return s.getsockname()[1]
    raise OSError(f"no free port on {host}")


def dagster_home() -> Path:
    """DAGSTER_HOME if set, else .dagster/ in the project with the project's dagster.yaml."""
    if os.environ.get("DAGSTER_HOME"):
        return Path(os.environ["DAGSTER_HOME"])
    home = ROOT / ".dagster"
    home.mkdir(parents=True, exist_ok=True)
    if not (home / "dagster.yaml").is_file():
        shutil.copyfile(ROOT / "dagster.yaml", home / "dagster.yaml")
    return home


def commands(host: str, dagster_port: int, mlflow_port: int, store: str, artifacts: Path) -> dict[str, list[str]]:
    return {
        "Dagster UI": [
            str(BIN / "dagster"),
            "dev",
            "-f",
            str(ROOT / "orchestration" / "definitions.py"),
            "-h",
            host,
            "-p",
            str(dagster_port),
        ],
        "MLflow UI": [
            str(BIN / "mlflow"),
            "server",
            "--backend-store-uri",
            store,
            "--artifacts-destination",
            str(artifacts),
            "--host",
            host,
            "--port",
            str(mlflow_port),
            "--workers",
            "1",
        ],
    }


def _own_group() -> None:
    os.setsid()  # its own process group, so that stopping it reaches every process it starts
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # a shell may have started us with SIGINT ignored


def start(cmds: dict[str, list[str]], env: dict[str, str]) -> dict[str, subprocess.Popen]:
    return {name: subprocess.Popen(cmd, cwd=ROOT, env=env, preexec_fn=_own_group) for name, cmd in cmds.items()}


def wait_ready(urls: dict[str, str], procs: dict[str, subprocess.Popen], timeout_s: float) -> None:
    pending = dict(urls)
    deadline = time.monotonic() + timeout_s
    while pending:
        for name, url in list(pending.items()):
            if procs[name].poll() is not None:
                raise RuntimeError(f"{name} exited with code {procs[name].returncode} before it served {url}")
            try:
                with urllib.request.urlopen(url, timeout=2) as reply:
                    if reply.status == 200:
                        del pending[name]
            except OSError:
                pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{', '.join(pending)} did not answer within {timeout_s:.0f} s")
        time.sleep(0.5)


def stop(procs: dict[str, subprocess.Popen], grace_s: float = 20.0) -> None:
    """Each group its stop signal, then SIGKILL whatever is left of them after `grace_s`."""
    import psutil

    tree = []
    for p in procs.values():
        try:
            parent = psutil.Process(p.pid)
            tree += [parent, *parent.children(recursive=True)]
        except psutil.NoSuchProcess:
            pass
    for name, p in procs.items():
        try:
            os.killpg(p.pid, STOP_SIGNALS[name])
        except ProcessLookupError:
            pass
    _, alive = psutil.wait_procs(tree, timeout=grace_s)
    for proc in alive:  # also those that left the group: they were in the tree
        try:
            proc.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(alive, timeout=5)
    for p in procs.values():
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        p.wait()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Serve the Dagster UI and the MLflow UI until Ctrl-C.")
    ap.add_argument("--host", default=LOOPBACK, help="interface to serve on (default 127.0.0.1: this machine only)")
    ap.add_argument("--dagster-port", type=int, default=int(os.environ.get("V2L_DAGSTER_PORT", 0)))
    ap.add_argument("--mlflow-port", type=int, default=int(os.environ.get("V2L_MLFLOW_PORT", 0)))
    ap.add_argument(
        "--mlflow-store",
        default=os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{ROOT / 'mlflow.db'}",
        help="MLflow backend store URI (default: MLFLOW_TRACKING_URI, else the project's mlflow.db, "
        "where the v2l commands log by default)",
    )
    ap.add_argument(
        "--mlflow-artifacts",
        type=Path,
        default=ROOT / "mlartifacts",
        help="where the server keeps artifacts of experiments created through it",
    )
    ap.add_argument("--ready-timeout", type=float, default=300.0)
    args = ap.parse_args(argv)

    from v2l.mlflow_store import absolute_tracking_uri

    dagster_port = args.dagster_port or free_port(args.host, 3000)
    mlflow_port = args.mlflow_port or free_port(args.host, 5000)
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    env = {
        **os.environ,
        "DAGSTER_HOME": str(dagster_home()),
        "PYTHONPATH": path,
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "DO_NOT_TRACK": "true",
        # The server's job runner (GenAI judges) is not used here: eight fewer processes.
        "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": os.environ.get("MLFLOW_SERVER_ENABLE_JOB_EXECUTION", "false"),
    }
    cmds = commands(
        args.host, dagster_port, mlflow_port, absolute_tracking_uri(args.mlflow_store), args.mlflow_artifacts.resolve()
    )
    urls = {"Dagster UI": f"http://{args.host}:{dagster_port}", "MLflow UI": f"http://{args.host}:{mlflow_port}"}
    health = {"Dagster UI": urls["Dagster UI"] + "/server_info", "MLflow UI": urls["MLflow UI"] + "/health"}

    stopping = []

    def on_signal(signum, frame):
        stopping.append(signum)
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    procs: dict[str, subprocess.Popen] = {}
    try:
        procs = start(cmds, env)
        print(f"starting the Dagster UI and the MLflow UI on {args.host} ...", flush=True)
        wait_ready(health, procs, args.ready_timeout)
        for name, url in urls.items():
            print(f"{name}: {url}", flush=True)
        print("Ctrl-C stops both.", flush=True)
        while all(p.poll() is None for p in procs.values()):
            time.sleep(0.5)
        gone = next(name for name, p in procs.items() if p.poll() is not None)
        print(f"{gone} exited (code {procs[gone].returncode}); stopping the other", file=sys.stderr, flush=True)
        return 1
    except KeyboardInterrupt:
        return 0
    except RuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the clean-up short
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stop(procs)
        print("stopped.", flush=True)


if __name__ == "__main__":
    sys.exit(main())
