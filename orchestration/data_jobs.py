"""The corpus job and its schedule: rebuild the corpus weekly (new files in the content folders get curated)."""

from __future__ import annotations

import dagster as dg

from orchestration.data_assets import GROUP

corpus_job = dg.define_asset_job("corpus_job", selection=dg.AssetSelection.groups(GROUP),
                                 description="Curate content and write the pair shards (with their checks).")

weekly_corpus = dg.ScheduleDefinition(name="weekly_corpus", job=corpus_job, cron_schedule="0 3 * * 1",
                                      default_status=dg.DefaultScheduleStatus.STOPPED)
