"""The data side: semantics library, content sources, curation, pairs, WebDataset shards and their reader.

Nothing here imports Dagster or Ray at module level; `orchestration/` and `pipelines/` call these functions.
"""
