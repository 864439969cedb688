"""The tiny world's models as assets: tiny_vae -> tiny_judge, tiny_backbone -> tiny_base_world; tiny_clip.

Each asset calls one job of `v2l.pretrain.jobs` (the same functions as `v2l pretrain ...`) and returns the
model folder it produced; this module only wires them and reports metadata.
"""

from pathlib import Path

import dagster as dg

from orchestration.logs import to_run_log
from orchestration.resources import PretrainSettings

GROUP = "tiny_world"


def _metadata(card: dict) -> dict:
    flat = {k: v for k, v in card["metrics"].items() if isinstance(v, (int, float))}
    return {
        "location": card["location"],
        "command": card["command"],
        "wall_minutes": card["wall_minutes"],
        "metrics": dg.MetadataValue.json(flat),
    }


@dg.asset(group_name=GROUP, description="Tiny AutoencoderKLCogVideoX; reconstruction PSNR on held-out content.")
def tiny_vae(context: dg.AssetExecutionContext, pretrain: PretrainSettings) -> str:
    from v2l.pretrain.jobs import (
        train_vae,  # lazy: pulls in torch via v2l.pretrain.jobs; keeps orchestration.definitions light
    )

    with to_run_log(context):
        card = train_vae(Path(pretrain.out_root) / "vae", **pretrain.job_args("vae"))
    context.add_output_metadata(_metadata(card))
    return card["location"]


@dg.asset(group_name=GROUP, description="Semantic judge over all semantics (trained partly on VAE reconstructions).")
def tiny_judge(context: dg.AssetExecutionContext, pretrain: PretrainSettings, tiny_vae: str) -> str:
    from v2l.pretrain.jobs import (
        train_judge,  # lazy: pulls in torch via v2l.pretrain.jobs; keeps orchestration.definitions light
    )

    with to_run_log(context):
        card = train_judge(Path(pretrain.out_root) / "judge", tiny_vae, **pretrain.job_args("judge"))
    context.add_output_metadata(_metadata(card))
    return card["location"]


@dg.asset(group_name=GROUP, description="Tiny open_clip for CLIP-T / CLIP-I; held-out caption-to-frame retrieval.")
def tiny_clip(context: dg.AssetExecutionContext, pretrain: PretrainSettings) -> str:
    from v2l.pretrain.jobs import (
        train_clip,  # lazy: pulls in torch via v2l.pretrain.jobs; keeps orchestration.definitions light
    )

    with to_run_log(context):
        card = train_clip(Path(pretrain.out_root) / "clip", **pretrain.job_args("clip"))
    context.add_output_metadata(_metadata(card))
    return card["location"]


@dg.asset(group_name=GROUP, description="Tiny I2V transformer (+ frozen T5) trained on tiny_vae's latents.")
def tiny_backbone(context: dg.AssetExecutionContext, pretrain: PretrainSettings, tiny_vae: str) -> str:
    from v2l.pretrain.jobs import (
        train_backbone,  # lazy: pulls in torch via v2l.pretrain.jobs; keeps orchestration.definitions light
    )

    with to_run_log(context):
        card = train_backbone(Path(pretrain.out_root) / "backbone", tiny_vae, **pretrain.job_args("backbone"))
    context.add_output_metadata(_metadata(card))
    return card["location"]


@dg.asset(
    group_name=GROUP,
    description="Base generations (no LoRA) judged: first-frame PSNR gap, confidence, "
    "coverage of the training semantics. Written into the transformer's card.",
)
def tiny_base_world(
    context: dg.AssetExecutionContext, pretrain: PretrainSettings, tiny_backbone: str, tiny_judge: str
) -> dict:
    from v2l.evaluation.world_bars import (
        measure_world,  # lazy: pulls in torch via v2l.evaluation.world_bars; keeps orchestration.definitions light
    )

    metrics = measure_world(tiny_backbone, tiny_judge, pretrain.world_per_semantic, pretrain.world_steps)
    context.add_output_metadata(
        {
            "missing_training_semantics": dg.MetadataValue.json(metrics["missing_training_semantics"]),
            **{k: v for k, v in metrics.items() if isinstance(v, float)},
        }
    )
    return metrics


PRETRAIN_ASSETS = [tiny_vae, tiny_judge, tiny_clip, tiny_backbone, tiny_base_world]
