"""Evaluation throughput (generated videos/s): the Ray actor pool with 1 actor over the in-process loop (target
>= 0.8), and 2 actors over 1. Steady state: models are loaded and every actor has run one chunk before timing; the
same chunks (a tiny seen split, true and wrong references) run in every setting. On a 2-core machine shared with
other jobs the 2-actor figure is bounded by the free cores, so the JSON records the load average beside it.
"""

from __future__ import annotations

import os
import time

from benchmarks.common import write_result

SEMANTICS = ["dissolve", "melt", "sepia", "pan_left", "zoom_in", "sketch"]
STEPS, BATCH, PER_SEMANTIC = 10, 4, 4


def _tasks():
    from v2l.evaluation.job import EvalConfig, build_plans

    cfg = EvalConfig(
        split="seen",
        semantics=SEMANTICS,
        per_semantic=PER_SEMANTIC,
        arms=["true_ref", "wrong_ref"],
        steps=STEPS,
        batch=BATCH,
        mlflow=False,
    )
    return cfg, [t for p in build_plans(cfg, None, None) for t in p.tasks]


def _videos_per_s(tasks, seconds: float) -> float:
    return sum(len(t.indices) for t in tasks) / seconds


def run() -> dict:
    import ray
    import torch

    from v2l.evaluation.ray_actors import generator_actors, map_on_actors
    from v2l.evaluation.runner import Generator

    torch.set_num_threads(1)
    cfg, tasks = _tasks()
    load_before = os.getloadavg()
    generator = Generator(None, STEPS, threads=1)
    generator.run(tasks[0])  # warm-up
    t0 = time.perf_counter()
    local = [generator.run(t) for t in tasks]
    in_process = _videos_per_s(tasks, time.perf_counter() - t0)
    del generator
    pool = {}
    try:
        for workers in (1, 2):
            with generator_actors(None, cfg.model_copy(update={"workers": workers, "threads": 1})) as actors:
                ray.get([a.run.remote(tasks[0]) for a in actors])  # models loaded, first chunk run
                t0 = time.perf_counter()
                results = map_on_actors(actors, tasks)
                pool[workers] = _videos_per_s(tasks, time.perf_counter() - t0)
            same = all(bool((a.videos == b.videos).all()) for a, b in zip(local, results))
            if not same:
                raise AssertionError(f"{workers} actor(s) generated other videos than the in-process loop")
    finally:
        ray.shutdown()
    result = {
        "videos": sum(len(t.indices) for t in tasks),
        "chunks": len(tasks),
        "steps": STEPS,
        "batch": BATCH,
        "in_process_videos_per_s": in_process,
        "ray_1_actor_videos_per_s": pool[1],
        "ray_2_actors_videos_per_s": pool[2],
        "ratio_1_actor_over_in_process": pool[1] / in_process,
        "target_1_actor_over_in_process": 0.8,
        "ratio_2_actors_over_1": pool[2] / pool[1],
        "same_videos_as_in_process": True,
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
        "note": "2-core CPU shared with other jobs: figures taken on a loaded machine"
        if load_before[0] > 1.5
        else "idle machine",
    }
    write_result("eval_throughput", result)
    return result
