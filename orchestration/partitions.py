"""Dataset versions as Dagster partitions: one dynamic partition per corpus content hash
(`v2l.data.content_version.content_version`). A version's new content is frozen in `<corpus.out_dir>/content/<key>`
(by the inbox sensor); its corpus is built in `<corpus.out_dir>/<key>`, and its training run, evaluation and
library carry the same key, so the UI shows which version every model came from."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import dagster as dg

dataset_version = dg.DynamicPartitionsDefinition(name="dataset_version")


def content_root(out_dir: str, key: str) -> Path:
    return Path(out_dir) / "content" / key


def corpus_dir(out_dir: str, key: str) -> Path:
    return Path(out_dir) / key


def version_config(corpus, key: str | None = None):
    """The CorpusConfig of version `key`: the settings' config plus that version's frozen content, if any."""
    cfg = corpus.config()
    if key is not None and content_root(corpus.out_dir, key).is_dir():
        cfg = dataclasses.replace(cfg, content_dirs=(*cfg.content_dirs, str(content_root(corpus.out_dir, key))))
    return cfg


def base_version(corpus) -> str:
    """The key of the corpus the settings alone describe (no inbox content)."""
    from v2l.data.content_version import (
        content_version,  # lazy: pulls in torch via v2l.data.content_version; keeps orchestration.definitions light
    )

    return content_version(corpus.config())


def newest_version(instance: dg.DagsterInstance) -> str | None:
    keys = instance.get_dynamic_partitions(dataset_version.name)
    return keys[-1] if keys else None
