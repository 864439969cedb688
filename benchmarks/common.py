"""Shared helpers for benchmarks: robust timing and atomic JSON results with machine info."""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from pathlib import Path
from typing import Callable

import torch

RESULTS = Path(__file__).resolve().parent / "results"


def median_seconds(fn: Callable[[], object], repeats: int = 7, warmup: int = 2) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def paired_ratio(fn_a: Callable[[], object], fn_b: Callable[[], object], rounds: int = 9) -> tuple[float, float, float]:
    """Median of per-round time(a)/time(b), interleaving a and b so drift in machine load cancels."""
    fn_a(), fn_b()
    ratios, ta, tb = [], [], []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn_a()
        t1 = time.perf_counter()
        fn_b()
        t2 = time.perf_counter()
        ta.append(t1 - t0)
        tb.append(t2 - t1)
        ratios.append((t1 - t0) / (t2 - t1))
    return statistics.median(ratios), statistics.median(ta), statistics.median(tb)


def machine() -> dict:
    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "cpus": os.cpu_count(),
        "device": "cuda:" + torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu",
        "platform": platform.platform(),
    }


def write_result(name: str, data: dict) -> Path:
    from v2l.atomic import write_text_atomic

    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    write_text_atomic(path, json.dumps({"benchmark": name, "machine": machine(), **data}, indent=2) + "\n")
    return path
