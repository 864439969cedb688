"""The evaluation's generation on a pool of Ray actors (Ray imported only when the pool starts).

Generation chunks fan out to `cfg.workers` actors, each loading the models once (`v2l.evaluation.runner.Generator`);
scoring, the report and MLflow stay in the driver. `workers: 0` runs the same chunks in-process, and any number of
actors gives the same videos, because every chunk carries its own seed.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Iterator

from v2l.evaluation.job import EvalConfig, evaluate
from v2l.evaluation.runner import Generator
from v2l.ray_cluster import connect


@contextlib.contextmanager
def generator_actors(checkpoint, cfg: EvalConfig) -> Iterator[list]:
    """cfg.workers Ray actors, each holding the models once (a local cluster unless an address is given)."""
    import ray

    connect(cfg.ray_address, num_cpus=max(2, cfg.workers * cfg.threads))
    remote = ray.remote(num_cpus=cfg.threads)(Generator)
    ckpt = str(Path(checkpoint).resolve()) if checkpoint is not None else None  # actors have their own cwd
    actors = [remote.remote(ckpt, cfg.steps, cfg.threads) for _ in range(cfg.workers)]
    try:
        yield actors
    finally:
        for actor in actors:
            ray.kill(actor)


def map_on_actors(actors: list, tasks: list) -> list:
    """Each task to the next free actor; results in task order."""
    from ray.util import ActorPool

    return list(ActorPool(actors).map(lambda actor, task: actor.run.remote(task), tasks))


def run_on_actor_pool(tasks: list, checkpoint, cfg: EvalConfig) -> list:
    with generator_actors(checkpoint, cfg) as actors:
        return map_on_actors(actors, tasks)


def run(cfg: EvalConfig) -> dict:
    """The evaluation: on the actor pool when cfg.workers >= 1, else in-process."""
    return evaluate(cfg, run_on_actor_pool if cfg.workers >= 1 else None)
