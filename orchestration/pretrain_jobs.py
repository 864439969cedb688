"""The tiny-world job: rebuild every tiny model in dependency order (about 2.5 hours at the default budgets).

No schedule: a rebuild changes the latent space, so the hypernetwork must be retrained after it (the release
run); it is started by hand from the UI or `dagster job execute`.
"""

from __future__ import annotations

import dagster as dg

from orchestration.pretrain_assets import GROUP

tiny_world_job = dg.define_asset_job(
    "tiny_world_job",
    selection=dg.AssetSelection.groups(GROUP),
    description="Pretrain the tiny world's VAE, judge, CLIP and backbone, then "
    "measure the base world (with the bars as asset checks).",
)
