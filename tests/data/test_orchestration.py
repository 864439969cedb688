"""The Dagster wiring: Definitions load, and a real in-process materialize builds a tiny corpus, passes its
asset checks and caches latents; the checks fail on a corrupted corpus."""

from __future__ import annotations

import json
import shutil

import dagster as dg
import pytest

pytestmark = pytest.mark.integration


def test_definitions_load_with_assets_checks_job_and_schedule():
    from orchestration.definitions import defs

    dg.Definitions.validate_loadable(defs)
    keys = {k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()}
    assert {"raw_content", "curated_clips", "semantic_pairs", "pair_shards", "latent_cache"} <= keys
    defs.resolve_job_def("curate")  # raises if the job is missing
    assert defs.resolve_schedule_def("weekly_retrain").cron_schedule == "0 3 * * 1"


def test_materialize_tiny_corpus_with_checks_and_latents(tmp_path, good_folder):
    from orchestration.data_assets import DATA_ASSETS
    from orchestration.data_checks import DATA_CHECKS
    from orchestration.partitions import base_version, dataset_version
    from orchestration.resources import CorpusSettings
    from v2l.data import checks
    from v2l.data.latent_cache import read_latents

    out = tmp_path / "corpus"
    settings = CorpusSettings(
        out_dir=str(out),
        overrides={
            "content_dirs": [str(good_folder)],
            "pairs_per_semantic": 1,
            "eval_pairs_per_semantic": 1,
            "photos": False,
            "procedural": 8,
            "shard_samples": 50,
        },
        latent_preset="tiny",
    )
    key = base_version(settings)  # one dataset version (partition), built in out/<key>
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(dataset_version.name, [key])
    result = dg.materialize(
        [*DATA_ASSETS, *DATA_CHECKS], resources={"corpus": settings}, instance=instance, partition_key=key
    )
    assert result.success
    out = out / key
    evaluations = result.get_asset_check_evaluations()
    assert sorted(e.check_name for e in evaluations) == ["counts_add_up", "manifest_integrity", "no_split_leakage"]
    assert all(e.passed for e in evaluations), [(e.check_name, e.metadata) for e in evaluations]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["counts"]["inputs"] == 8 + 5 and manifest["counts"]["samples"]["real"] == 3
    lat = manifest["latents"]["tiny"]
    assert sum(e["samples"] for e in lat["shards"]) == sum(manifest["counts"]["samples"].values())
    first = next(read_latents(out, "tiny", "heldout"))
    assert first["ref"].ndim == 4 and first["text"].ndim == 2
    mats = {m.asset_key.to_user_string(): m for m in result.get_asset_materialization_events()}
    assert set(mats) == {"raw_content", "curated_clips", "semantic_pairs", "pair_shards", "latent_cache"}
    # The stages' own messages (v2l's loggers) are in the run log.
    logged = [e.user_message for e in instance.all_logs(result.run_id) if not e.is_dagster_event]
    for start in ("curate: 13/13 inputs", "shards: ", "latents: "):
        assert any(m.startswith(start) for m in logged), (start, logged)

    # The same checks fail on a corrupted copy, naming the problem.
    bad = tmp_path / "bad"
    shutil.copytree(out / "shards", bad / "shards")
    shutil.copy(out / "manifest.json", bad / "manifest.json")
    shutil.copy(out / "quarantine.jsonl", bad / "quarantine.jsonl")
    victim = sorted((bad / "shards" / "train").glob("*.tar"))[0]
    data = bytearray(victim.read_bytes())
    data[-2000] ^= 0xFF
    victim.write_bytes(bytes(data))
    ok, details = checks.manifest_integrity(bad)
    assert not ok and "corrupt" in details["error"]
    (bad / "quarantine.jsonl").write_text('{"input": "x", "kind": "file", "reason": "blank", "detail": "x"}\n')
    ok, details = checks.counts_add_up(bad)
    assert not ok and details["problems"]
