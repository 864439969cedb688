"""Training throughput (issue 5): steady-state samples/s of Ray Train (1 worker) against the plain PyTorch
loop on the same data (target ratio >= 0.9), and of the latent cache against decoding + VAE-encoding on the
fly (target ratio >= 3); peak RSS of the plain process.
"""

from __future__ import annotations

import json
import resource
import statistics
import tempfile
import time
from pathlib import Path

from benchmarks.common import write_result

CONFIG = Path(__file__).resolve().parent.parent / "tests" / "configs" / "tiny-smoke.yaml"
STEPS, WARMUP, BATCH = 60, 5, 4


def _steady(history: list[dict]) -> float:
    """Wall-clock samples/s after warm-up: everything between steps (data, reporting, logging) counts."""
    steady = history[WARMUP:]
    return BATCH * (len(steady) - 1) / (steady[-1]["elapsed_s"] - steady[0]["elapsed_s"])


def _compute_only(history: list[dict]) -> float:
    return statistics.median(h["samples_per_s"] for h in history[WARMUP:])


def _cfg(run_dir: Path, corpus: Path, latent: bool, **over):
    from v2l.training.config import load_config

    return load_config(
        CONFIG,
        run_dir=str(run_dir),
        max_steps=STEPS,
        checkpoint_every=1000,
        batch_size=BATCH,
        data={"corpus": str(corpus), "latent_cache": latent},
        **over,
    )


def run() -> dict:
    from v2l.data.build import build_corpus
    from v2l.data.latent_cache import cache_latents
    from v2l.training.trainer import run_training

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        build_corpus(tmp / "corpus", pairs_per_semantic=2)
        cache_latents(tmp / "corpus", "tiny")
        t0 = time.perf_counter()
        video = run_training(_cfg(tmp / "video", tmp / "corpus", False))
        video_wall = time.perf_counter() - t0
        t0 = time.perf_counter()
        latent = run_training(_cfg(tmp / "latent", tmp / "corpus", True))
        latent_wall = time.perf_counter() - t0
        rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

        import ray

        from v2l.training.ray_fit import fit

        t0 = time.perf_counter()
        fit(_cfg(tmp / "ray", tmp / "corpus", False, ray={"workers": 1, "max_failures": 0}))
        ray_wall = time.perf_counter() - t0
        ray.shutdown()
        ray_hist = [json.loads(line) for line in (tmp / "ray" / "metrics.jsonl").read_text().splitlines()]

    plain = _steady(video["history"])
    result = {
        "steps": STEPS,
        "batch": BATCH,
        "warmup_steps_excluded": WARMUP,
        "plain_video_samples_per_s": plain,
        "ray_1_worker_video_samples_per_s": _steady(ray_hist),
        "ray_over_plain": _steady(ray_hist) / plain,
        "ray_over_plain_target": 0.9,
        "compute_only_samples_per_s": {
            "plain_video": _compute_only(video["history"]),
            "ray_video": _compute_only(ray_hist),
            "plain_latent": _compute_only(latent["history"]),
        },
        "latent_cache_samples_per_s": _steady(latent["history"]),
        "latent_over_video": _steady(latent["history"]) / plain,
        "latent_over_video_target": 3.0,
        "wall_s": {"plain_video": video_wall, "plain_latent": latent_wall, "ray_video_incl_startup": ray_wall},
        "peak_rss_mb_plain_process": rss_mb,
    }
    write_result("train_throughput", result)
    return result


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
