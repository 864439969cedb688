"""The bulk LoRA library build on Ray Data (Ray imported only when the executor runs).

inputs (listed and hashed on the driver) -> `decode_task` in Ray Data map tasks (curation's checks, decoding)
-> `write_task` in an actor pool (`map_batches` with a callable class: the model is loaded once per actor;
`workers` actors, `batch` references per call) -> LoRA files written atomically by the actors -> the driver
indexes the results as they stream back (`LIB/index.parquet`, `LIB/library.json`, `LIB/quarantine.jsonl`).

On a local Ray by default. With RAY_ADDRESS (or `address:` in the config) it runs on an existing cluster:
actors write the files themselves, so `out` must be a path every node sees (NFS or another shared mount),
and `references` too (inputs are read by the map tasks where they run).
"""

from __future__ import annotations

import os
from pathlib import Path

from v2l.library.build import build_library, decode_task, write_task
from v2l.library.config import LibraryBuildConfig
from v2l.library.writer import LoRAWriter
from v2l.model import default_model
from v2l.ray_cluster import connect

MAX_BLOCKS = 2000


class _Predictor:
    """One per actor: the model is loaded once, then every batch of decoded rows is predicted and written."""

    def __init__(self, root: str, checkpoint: str | None, preset: str, backbone_weights: str | None, threads: int):
        import torch

        torch.set_num_threads(threads)
        if os.environ.get("V2L_NODE_FILE"):  # lets tests see which node each actor ran on
            import ray

            Path(f"{os.environ['V2L_NODE_FILE']}.{os.getpid()}").write_text(ray.get_runtime_context().get_node_id())
        self.writer = LoRAWriter(root, checkpoint=checkpoint, preset=preset, backbone_weights=backbone_weights)

    def __call__(self, batch: dict) -> dict:
        import json

        import numpy as np

        n = len(batch["sha256"])
        rows = [{k: batch[k][i] for k in batch} for i in range(n)]
        return {"result": np.array([json.dumps(write_task(self.writer, r)) for r in rows], dtype=object)}


def ray_executor(cfg: LibraryBuildConfig):
    """An executor for `build_library`: the rows through Ray Data, results yielded as they complete."""

    def run(rows: list[dict], preset: str):
        import json

        import ray
        import ray.data

        if not rows:
            return
        connect(cfg.address, num_cpus=max(2, int(cfg.workers * cfg.cpus_per_worker) + 1))
        ctx = ray.data.DataContext.get_current()
        ctx.enable_progress_bars = False  # the build shows its own bar, counted in references
        ctx.print_on_execution_start = False
        absolute = lambda p: str(Path(p).resolve()) if p else None  # noqa: E731 - workers have other cwds
        # One reference per block (up to MAX_BLOCKS): results stream back to the driver as each is written, so
        # the progress bar moves and the index is rewritten during the build. With blocks of several rows the
        # driver got nothing until the end (measured: 12 references, every result at the last second).
        ds = ray.data.from_items(rows, override_num_blocks=max(1, min(len(rows), MAX_BLOCKS)))
        ds = ds.map(decode_task, fn_kwargs={"preset": preset}, num_cpus=0.5)
        ds = ds.map_batches(
            _Predictor,
            batch_size=cfg.batch,
            batch_format="numpy",
            compute=ray.data.ActorPoolStrategy(size=cfg.workers),
            num_cpus=cfg.cpus_per_worker,
            fn_constructor_kwargs={
                "root": absolute(cfg.out),
                "checkpoint": absolute(cfg.checkpoint),
                "preset": cfg.preset,
                "backbone_weights": absolute(cfg.backbone_weights),
                "threads": cfg.torch_threads,
            },
        )
        for row in ds.iter_rows():
            yield json.loads(row["result"])

    return run


def build(cfg: LibraryBuildConfig, progress: bool = True):
    """The whole build: the driver loads the model once for the library's identity, actors predict."""

    cfg = cfg.resolved()  # --model models:/v2l-hypernet@champion -> its checkpoint folder, for driver and actors
    model = default_model(cfg.checkpoint, cfg.preset, cfg.backbone_weights)
    return build_library(
        cfg.references,
        cfg.out,
        model,
        ray_executor(cfg),
        cfg.formats,
        cfg.labels,
        progress=progress,
        sampling=cfg.reference,
    )
