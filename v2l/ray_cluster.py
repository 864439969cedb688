"""The one way the project gets a Ray cluster: join the one named by an address (or RAY_ADDRESS), else start a
private local instance whose every server listens on loopback only, with the dashboard off unless asked for.

Ray's servers (GCS, raylet, each worker's gRPC server, the runtime-env and dashboard agents) bind to the node's
IP address, and Ray turns 127.0.0.1 into the machine's routable address unless it runs in single-machine mode
(`RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0`, Ray's default on macOS and Windows). A private instance is started in
that mode with `_node_ip_address=127.0.0.1`, so all of it listens on 127.0.0.1. Torch's process-group store
listens on every interface whatever the node address, so Ray Train jobs take `torch_config()`: on a loopback
instance its store listens on a socket bound to 127.0.0.1, and gloo / NCCL use the loopback interface.
"""

from __future__ import annotations

import os
import socket
from contextlib import contextmanager
from datetime import timedelta
from typing import Iterator

LOOPBACK = "127.0.0.1"
SINGLE_MACHINE_ENV = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"  # Ray's switch: "0" keeps every address on loopback
DASHBOARD_ENV = "V2L_RAY_DASHBOARD"  # "1": start Ray's dashboard (on 127.0.0.1) with a private instance


def connect(
    address: str | None = None,
    num_cpus: int | None = None,
    *,
    dashboard: bool | None = None,
    temp_dir: str | None = None,
) -> None:
    """Join the cluster at `address` (or RAY_ADDRESS), else start a private local instance on loopback,
    unless Ray is up already in this process. `temp_dir` (absolute, short) gives the private instance its own
    session folder instead of Ray's shared one."""
    import ray

    if ray.is_initialized():
        return
    address = address or os.environ.get("RAY_ADDRESS")
    if address:
        ray.init(address=address, log_to_driver=False)
        return
    if dashboard is None:
        dashboard = os.environ.get(DASHBOARD_ENV, "").lower() in ("1", "true", "yes")
    # No usage stats, and no token auth between our own processes (nothing else can reach them).
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    with _single_machine_mode():
        # address="local": a new instance even when `ray start` left one on this machine (which a bare
        # `ray.init()` would join).
        ray.init(
            address="local",
            num_cpus=num_cpus,
            include_dashboard=dashboard,
            dashboard_host=LOOPBACK,
            _node_ip_address=LOOPBACK,
            _temp_dir=temp_dir,
            log_to_driver=False,
        )


def shutdown() -> None:
    """Leave the cluster; a private instance this process started stops with it."""
    import ray

    ray.shutdown()


def is_loopback() -> bool:
    """True when this process is connected to a Ray instance that lives on loopback (a private one)."""
    import ray

    if not ray.is_initialized():
        return False
    return ray.get_runtime_context().gcs_address.rsplit(":", 1)[0] in (LOOPBACK, "localhost", "::1")


def torch_config(timeout_s: int = 1800):
    """The `torch_config` for a TorchTrainer on the current cluster: on a private loopback instance, a process
    group whose store and transports listen on 127.0.0.1; on a joined cluster, Ray's default."""
    from ray.train.torch import TorchConfig

    if not is_loopback():
        return TorchConfig(timeout_s=timeout_s)
    return _loopback_torch_config_class()(timeout_s=timeout_s)


@contextmanager
def _single_machine_mode() -> Iterator[None]:
    """Ray reads the switch when it is imported, so an imported Ray gets its constant set too. The daemons and
    workers started meanwhile inherit the environment; restored afterwards so that a later `connect` to a real
    cluster in this process resolves the machine's address as usual."""
    from ray._private import ray_constants

    interface = _loopback_interface()
    saved_env = {k: os.environ.get(k) for k in (SINGLE_MACHINE_ENV, "GLOO_SOCKET_IFNAME", "NCCL_SOCKET_IFNAME")}
    saved_flag = ray_constants.ENABLE_RAY_CLUSTER
    os.environ[SINGLE_MACHINE_ENV] = "0"
    # Collective transports pick an interface of their own; on one machine loopback is the right one.
    os.environ.setdefault("GLOO_SOCKET_IFNAME", interface)
    os.environ.setdefault("NCCL_SOCKET_IFNAME", interface)
    ray_constants.ENABLE_RAY_CLUSTER = False
    try:
        yield
    finally:
        ray_constants.ENABLE_RAY_CLUSTER = saved_flag
        for key, value in saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _loopback_interface() -> str:
    import psutil

    for name, addresses in psutil.net_if_addrs().items():
        if any(a.family == socket.AF_INET and a.address == LOOPBACK for a in addresses):
            return name
    return "lo"


# The process-group store of a loopback instance: rank 0 binds a socket to 127.0.0.1 and hands its descriptor
# to torch's TCPStore (which would otherwise listen on every interface), then every rank joins through it.
_store_socket: socket.socket | None = None


def _bind_store_socket() -> int:
    global _store_socket
    if _store_socket is not None:
        _store_socket.close()
    _store_socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    _store_socket.bind((LOOPBACK, 0))
    _store_socket.listen()
    return _store_socket.getsockname()[1]


def _join_process_group(backend: str, rank: int, world_size: int, port: int, timeout_s: int) -> None:
    import torch.distributed as dist

    os.environ["MASTER_ADDR"], os.environ["MASTER_PORT"] = LOOPBACK, str(port)
    timeout = timedelta(seconds=timeout_s)
    if rank == 0:  # the store takes the descriptor over (detached: Python must not close it under the store)
        store = dist.TCPStore(
            LOOPBACK, port, world_size, is_master=True, timeout=timeout, master_listen_fd=_store_socket.detach()
        )
    else:
        store = dist.TCPStore(LOOPBACK, port, world_size, is_master=False, timeout=timeout)
    dist.init_process_group(backend=backend, store=store, rank=rank, world_size=world_size, timeout=timeout)


def _loopback_torch_config_class():
    """Built on first use (Ray Train is imported lazily); Ray pickles it by value to its controller."""
    from dataclasses import dataclass

    import ray
    from ray.train._internal.worker_group import WorkerGroup as V1WorkerGroup
    from ray.train.torch import TorchConfig
    from ray.train.torch.config import _set_torch_distributed_env_vars, _TorchBackend

    class LoopbackTorchBackend(_TorchBackend):
        def on_start(self, worker_group, backend_config) -> None:
            backend = backend_config.backend
            if backend is None:
                backend = "nccl" if worker_group.get_resources_per_worker().get("GPU", 0) > 0 else "gloo"
            port = worker_group.execute_single(0, _bind_store_socket)
            if not isinstance(worker_group, V1WorkerGroup):
                worker_group.execute(_set_torch_distributed_env_vars)
            ray.get(
                [
                    worker_group.execute_single_async(
                        i, _join_process_group, backend, i, len(worker_group), port, backend_config.timeout_s
                    )
                    for i in range(len(worker_group))
                ]
            )

    @dataclass
    class LoopbackTorchConfig(TorchConfig):
        @property
        def backend_cls(self):
            return LoopbackTorchBackend

    return LoopbackTorchConfig
