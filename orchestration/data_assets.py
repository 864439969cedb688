"""The data assets: raw_content -> curated_clips -> semantic_pairs -> pair_shards -> latent_cache.

Each asset calls one stage function of `v2l.data.build`; this module only wires them and reports metadata.
"""

from pathlib import Path

import dagster as dg

from orchestration.logs import to_run_log
from orchestration.partitions import corpus_dir, dataset_version, version_config
from orchestration.resources import CorpusSettings

GROUP = "data"


def _version(context, corpus: CorpusSettings):
    """(CorpusConfig, output folder) of this run's dataset version (partition)."""
    key = context.partition_key
    return version_config(corpus, key), corpus_dir(corpus.out_dir, key)


@dg.asset(
    group_name=GROUP,
    partitions_def=dataset_version,
    description="Built-in photos, procedural scenes and every file of the content folders.",
)
def raw_content(context: dg.AssetExecutionContext, corpus: CorpusSettings):
    from v2l.data.build import gather  # lazy: pulls in torch via v2l.data.build; keeps orchestration.definitions light

    g = gather(version_config(corpus, context.partition_key))
    context.add_output_metadata(
        {"inputs": len(g.inputs), "label_rows": g.label_rows, "label_rows_quarantined": len(g.label_rejections)}
    )
    return g


@dg.asset(
    group_name=GROUP,
    partitions_def=dataset_version,
    description="Inputs accepted (normalised clips, content pictures) or quarantined.",
)
def curated_clips(context: dg.AssetExecutionContext, corpus: CorpusSettings, raw_content):
    from v2l.data.build import (
        curate_stage,  # lazy: pulls in torch via v2l.data.build; keeps orchestration.definitions light
    )

    cfg, out = _version(context, corpus)
    with to_run_log(context):
        c = curate_stage(raw_content, cfg, out)
    counts = c.counts()
    context.add_output_metadata(
        {
            "accepted": counts["accepted"],
            "quarantined": counts["quarantined"],
            "by_reason": dg.MetadataValue.json(counts["quarantined_by_reason"]),
        }
    )
    return c


@dg.asset(
    group_name=GROUP,
    partitions_def=dataset_version,
    description="Reference-target pairs per split (ids and seeds only).",
)
def semantic_pairs(context: dg.AssetExecutionContext, corpus: CorpusSettings, curated_clips):
    from v2l.data.build import (
        plan_stage,  # lazy: pulls in torch via v2l.data.build; keeps orchestration.definitions light
    )

    p = plan_stage(curated_clips, _version(context, corpus)[0])
    per_split = {}
    for s in p.specs:
        per_split[s.split] = per_split.get(s.split, 0) + 1
    context.add_output_metadata({"samples": dg.MetadataValue.json(per_split)})
    return p


@dg.asset(
    group_name=GROUP,
    partitions_def=dataset_version,
    description="WebDataset shards, manifest.json and quarantine.jsonl.",
)
def pair_shards(context: dg.AssetExecutionContext, corpus: CorpusSettings, curated_clips, semantic_pairs):
    from v2l.data.build import (
        shards_stage,  # lazy: pulls in torch via v2l.data.build; keeps orchestration.definitions light
    )

    cfg, out = _version(context, corpus)
    with to_run_log(context):
        r = shards_stage(curated_clips, semantic_pairs, cfg, out)
    import json

    manifest = json.loads(r.manifest.read_text())
    context.add_output_metadata(
        {
            "version": manifest["version"],
            "manifest": str(r.manifest),
            "quarantine": str(r.quarantine),
            "dataset_version": context.partition_key,
            "shards": len(manifest["shards"]),
            "samples": dg.MetadataValue.json(r.counts["samples"]),
        }
    )
    return str(r.manifest)


@dg.asset(
    group_name=GROUP,
    partitions_def=dataset_version,
    description="VAE latents and text embeddings next to the shards (optional).",
)
def latent_cache(context: dg.AssetExecutionContext, corpus: CorpusSettings, pair_shards):
    if not corpus.latent_preset:
        context.log.info("latent_preset is empty: no latent cache")
        context.add_output_metadata({"skipped": True})
        return None
    from v2l.data.latent_cache import (
        cache_latents,  # lazy: pulls in torch via v2l.data.latent_cache; keeps orchestration.definitions light
    )

    with to_run_log(context):
        info = cache_latents(str(Path(pair_shards).parent), corpus.latent_preset)
    context.add_output_metadata(
        {"preset": corpus.latent_preset, "shards": len(info["shards"]), "random_weights": info["random_weights"]}
    )
    return info


DATA_ASSETS = [raw_content, curated_clips, semantic_pairs, pair_shards, latent_cache]
