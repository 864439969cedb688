"""Asset checks: each tiny-world model against its bars (v2l.cards.bars), read from the card its asset wrote."""

import json
from pathlib import Path

import dagster as dg

from orchestration.pretrain_assets import tiny_base_world, tiny_clip, tiny_judge, tiny_vae
from v2l.cards.bars import meets_bars


def _card_check(model: str, location: str) -> dg.AssetCheckResult:
    passed, report = meets_bars(model, json.loads((Path(location) / "card.json").read_text())["metrics"])
    return dg.AssetCheckResult(passed=passed, metadata={k: dg.MetadataValue.json(v) for k, v in report.items()})


@dg.asset_check(asset=tiny_vae, description="Reconstruction PSNR on held-out content >= 25 dB.")
def vae_psnr_bar(tiny_vae: str) -> dg.AssetCheckResult:
    return _card_check("vae", tiny_vae)


@dg.asset_check(asset=tiny_judge, description="Judge accuracy on held-out real clips >= 90 % over all semantics.")
def judge_accuracy_bar(tiny_judge: str) -> dg.AssetCheckResult:
    return _card_check("judge", tiny_judge)


@dg.asset_check(asset=tiny_clip, description="Caption-to-frame retrieval top-1 on held-out captions >= 80 %.")
def clip_retrieval_bar(tiny_clip: str) -> dg.AssetCheckResult:
    return _card_check("clip", tiny_clip)


@dg.asset_check(
    asset=tiny_base_world,
    description="First-frame gap <= 0.5 dB, mean max probability >= 0.5, "
    "no training semantic missing from base generations.",
)
def base_world_bars(tiny_base_world: dict) -> dg.AssetCheckResult:
    passed, report = meets_bars("base_world", tiny_base_world)
    return dg.AssetCheckResult(passed=passed, metadata={k: dg.MetadataValue.json(v) for k, v in report.items()})


PRETRAIN_CHECKS = [vae_psnr_bar, judge_accuracy_bar, clip_retrieval_bar, base_world_bars]
