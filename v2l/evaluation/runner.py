"""Executes generation chunks: one `Generator` holds the models (loaded once) and runs any `GenerationTask`.

The in-process loop here and the Ray actor pool in `pipelines/evaluate.py` both call `Generator.run`, so they
produce the same videos for the same tasks.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import torch

from v2l.backbones import get_spec
from v2l.baselines.per_condition import TARGETS
from v2l.evaluation.arms import GenerationTask
from v2l.inference.generate import generate, sample
from v2l.lora.files import check_compatible, load_compact
from v2l.model import default_model


@dataclass
class TaskResult:
    split: str
    arm: str
    indices: list[int]
    videos: torch.Tensor  # (n, 3, F, H, W) in [-1, 1]
    lora_seconds: float  # reference -> LoRA (VAE + hypernetwork) for the whole chunk; 0 without references
    generate_seconds: float


class Generator:
    """The model under evaluation (checkpoint folder, or the committed one when None) and the sampler settings."""

    def __init__(self, checkpoint: str | Path | None, steps: int, threads: int | None = None):
        if threads:
            torch.set_num_threads(threads)
        self.model = default_model(checkpoint)
        self.model.hypernet.eval()
        self.steps = steps
        self._plain = None  # a LightLoRA-free backbone for per-condition peft adapters, built on first use
        self._adapters: set[str] = set()

    def _per_condition_backbone(self, adapter_dir: str, semantic: str):
        from peft import LoraConfig
        from peft.utils import set_peft_model_state_dict
        from safetensors.torch import load_file

        if self._plain is None:
            self._plain = get_spec(self.model.cfg.preset).default()
        tr = self._plain.transformer
        if semantic not in self._adapters:
            state = load_file(str(Path(adapter_dir) / "adapter.safetensors"))
            rank = next(v.shape[0] for k, v in state.items() if "lora_A" in k)
            tr.add_adapter(LoraConfig(r=rank, lora_alpha=rank, target_modules=TARGETS), adapter_name=semantic)
            set_peft_model_state_dict(tr, state, adapter_name=semantic)
            self._adapters.add(semantic)
        tr.set_adapter(semantic)
        return self._plain

    @torch.no_grad()
    def run(self, task: GenerationTask) -> TaskResult:
        A = B = None
        t0 = time.perf_counter()
        if task.references is not None:
            A, B = self.model.predict_factors(task.references)
        elif task.codes is not None:
            A, B = self.model.network.split(task.codes)
        t1 = time.perf_counter()
        if task.adapter is not None and task.adapter_format == "compact":
            # A library's LoRA: one reference's LoRA for every video of the chunk, merged into the weights once.

            lora = load_compact(task.adapter)
            check_compatible(lora, self.model, f"per-condition LoRA {task.adapter}")
            videos = generate(
                self.model,
                task.images,
                task.captions,
                lora.A_pred[None].float(),
                lora.B_pred[None].float(),
                scale=lora.scale,
                steps=self.steps,
                seed=task.seed,
            )
        elif task.adapter is not None:
            videos = sample(
                self._per_condition_backbone(task.adapter, task.semantic),
                task.images,
                task.captions,
                steps=self.steps,
                seed=task.seed,
            )
        else:
            videos = generate(self.model, task.images, task.captions, A, B, steps=self.steps, seed=task.seed)
        t2 = time.perf_counter()
        return TaskResult(
            task.split, task.arm, task.indices, videos, (t1 - t0) if task.references is not None else 0.0, t2 - t1
        )


def run_in_process(
    tasks: list[GenerationTask], checkpoint: str | Path | None, steps: int, threads: int | None = None, progress=None
) -> list[TaskResult]:
    generator = Generator(checkpoint, steps, threads)
    results = []
    for task in tasks:
        results.append(generator.run(task))
        if progress is not None:
            progress(results[-1])
    return results
