"""The LoRA library of a dataset version: lora_library (the Ray Data bulk build, `v2l.library.ray_build.build`)
-> library_index (index.parquet + library.json, read back by `v2l.library.index.read_library`).

By default a library holds one LoRA per reference clip of the version's corpus, made by the registry's champion;
a library request (the sensor, or the launchpad's `ops.lora_library.config`) names other references, formats,
a checkpoint or a model alias, and an output folder."""

from pathlib import Path
from typing import Optional

import dagster as dg

from orchestration.logs import to_run_log
from orchestration.partitions import corpus_dir, dataset_version
from orchestration.resources import CorpusSettings, LibrarySettings, MlflowResource, PlatformPaths, RayResource

GROUP = "library"


class LibraryRequest(dg.Config):
    references: Optional[str] = None  # a folder of videos, a list file or a corpus manifest.json (default: the corpus)
    formats: Optional[list[str]] = None  # compact, diffusers, kohya (default: the config's)
    checkpoint: Optional[str] = None  # a checkpoint folder ...
    model: Optional[str] = None  # ... or models:/v2l-hypernet@champion (default: the registry's decision)
    out: Optional[str] = None  # default: <paths.root>/library/<version>/v<registered version>


def _weights_sha(checkpoint: str) -> str:
    import hashlib

    from v2l.saved_model import (
        weights_path,  # lazy: pulls in torch via v2l.saved_model; keeps orchestration.definitions light
    )

    return hashlib.sha256(weights_path(checkpoint).read_bytes()).hexdigest()


@dg.asset(
    group_name=GROUP,
    partitions_def=dataset_version,
    pool="heavy",
    deps=["registered_hypernet", "pair_shards"],
    description="LoRA files (compact / diffusers / kohya) for every reference, built by Ray Data actors, in "
    "<root>/library/<version>/<hypernet sha256[:12]> (a library holds one hypernetwork's LoRAs).",
)
def lora_library(
    context: dg.AssetExecutionContext,
    config: LibraryRequest,
    library: LibrarySettings,
    corpus: CorpusSettings,
    ray: RayResource,
    mlflow: MlflowResource,
    paths: PlatformPaths,
) -> str:
    from v2l.library.ray_build import (
        build,  # lazy: pulls in torch via v2l.library.ray_build; keeps orchestration.definitions light
    )
    from v2l.registry import (  # lazy: pulls in torch via v2l.registry; keeps orchestration.definitions light
        MODEL_NAME,
        resolve_model,
    )

    if config.checkpoint and config.model:
        raise dg.Failure("a library request names a checkpoint or a model, not both")
    key = context.partition_key
    spec = config.checkpoint or config.model or f"models:/{MODEL_NAME}@champion"
    checkpoint = config.checkpoint or str(resolve_model(spec, mlflow.uri(), cache=paths.of("models")))
    references = config.references or str(corpus_dir(corpus.out_dir, key) / "manifest.json")
    out = config.out or paths.of("library", key, _weights_sha(checkpoint)[:12])
    cfg = library.build_config(
        references=references, out=out, formats=config.formats, checkpoint=checkpoint, address=ray.address
    )
    ray.connect()
    with to_run_log(context):
        result = build(cfg, progress=False)
    context.log.info(result.summary())
    context.add_output_metadata(
        {
            "library": str(cfg.out),
            "model": spec,
            "checkpoint": checkpoint,
            "references": str(cfg.references),
            "formats": dg.MetadataValue.json(cfg.formats),
            "built": result.counts["built"],
            "quarantined": result.counts["quarantined"],
            "dataset_version": key,
        }
    )
    return str(cfg.out)


@dg.asset(
    group_name=GROUP,
    partitions_def=dataset_version,
    description="The library's index.parquet and library.json: one row per unique reference, its files' hashes.",
)
def library_index(context: dg.AssetExecutionContext, lora_library: str) -> dict:
    from v2l.library.index import (  # lazy: pulls in torch via v2l.library.index; keeps orchestration.definitions light
        INDEX,
        INFO,
        read_library,
        totals,
    )

    lib = read_library(lora_library, must_exist=True)
    t = totals(lib)
    context.add_output_metadata(
        {
            "index": str(Path(lora_library) / INDEX),
            "info": str(Path(lora_library) / INFO),
            "totals": dg.MetadataValue.json(t),
        }
    )
    return {"library": lora_library, "totals": t}


LIBRARY_ASSETS = [lora_library, library_index]
