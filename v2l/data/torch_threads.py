"""Run torch single-threaded for a while: the semantics render 9x48x48 clips, far too small to gain from
threads, and with other jobs on the cores two threads made each render about 10x slower (17 ms vs 1.8 ms)."""

from __future__ import annotations

import contextlib

import torch


@contextlib.contextmanager
def single_threaded_torch():
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(old)
