"""The Definitions load in every environment; every job, schedule and sensor resolves; the graph is the one the
issue names (content -> library per dataset version, the tiny world beside it); resources follow V2L_ENV."""

import dagster as dg
import pytest

from v2l.errors import V2LError

PARTITIONED = [
    "raw_content",
    "curated_clips",
    "semantic_pairs",
    "pair_shards",
    "latent_cache",
    "hypernet_checkpoint",
    "hypernet_evaluation",
    "registered_hypernet",
    "lora_library",
    "library_index",
]
TINY_WORLD = ["tiny_vae", "tiny_judge", "tiny_clip", "tiny_backbone", "tiny_base_world"]


def test_definitions_load_and_everything_resolves(tmp_path, monkeypatch):
    monkeypatch.setenv("V2L_PLATFORM_ROOT", str(tmp_path))
    from orchestration.definitions import build_definitions, defs

    for d in (defs, build_definitions("test")):
        dg.Definitions.validate_loadable(d)
        graph = d.resolve_asset_graph()
        assert {k.to_user_string() for k in graph.get_all_asset_keys()} == set(PARTITIONED + TINY_WORLD)
        for name in ("curate", "train", "evaluate", "build_library", "retrain", "full", "tiny_world_job"):
            assert d.resolve_job_def(name).name == name
        assert d.resolve_schedule_def("weekly_retrain").cron_schedule == "0 3 * * 1"
        for name in ("inbox_sensor", "library_request_sensor", "evaluate_after_training"):
            assert d.resolve_sensor_def(name).name == name
    graph = defs.resolve_asset_graph()
    for name in PARTITIONED:
        node = graph.get(dg.AssetKey(name))
        assert node.partitions_def is not None and node.partitions_def.name == "dataset_version", name
    for name in TINY_WORLD:
        assert graph.get(dg.AssetKey(name)).partitions_def is None
    # The chain the issue names, edge by edge.
    for up, down in [
        ("raw_content", "curated_clips"),
        ("curated_clips", "semantic_pairs"),
        ("semantic_pairs", "pair_shards"),
        ("pair_shards", "latent_cache"),
        ("pair_shards", "hypernet_checkpoint"),
        ("hypernet_checkpoint", "hypernet_evaluation"),
        ("hypernet_evaluation", "registered_hypernet"),
        ("registered_hypernet", "lora_library"),
        ("lora_library", "library_index"),
    ]:
        assert dg.AssetKey(up) in graph.get(dg.AssetKey(down)).parent_keys, (up, down)
    checks = {k.name for k in graph.asset_check_keys}
    assert {
        "manifest_integrity",
        "counts_add_up",
        "no_split_leakage",
        "evaluation_release_bar",
        "no_regression_against_champion",
        "library_index_hashes",
    } <= checks
    full = {k.to_user_string() for k in defs.resolve_job_def("full").asset_layer.selected_asset_keys}
    assert full == set(PARTITIONED)
    for heavy in ("hypernet_checkpoint", "hypernet_evaluation", "lora_library"):
        assert graph.get(dg.AssetKey(heavy)).pools == {"heavy"}


def test_environments_choose_the_resources(tmp_path, monkeypatch):
    from orchestration.environments import environment

    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("V2L_PLATFORM_ROOT", raising=False)
    dev = environment("dev")
    assert dev.resources["ray"].address is None and dev.resources["paths"].root == "runs/platform"
    assert dev.resources["mlflow"].tracking_uri.endswith("runs/platform/mlflow.db")
    assert dev.schedule_status == dg.DefaultScheduleStatus.STOPPED
    with pytest.raises(V2LError, match="V2L_PLATFORM_ROOT"):
        environment("test")
    with pytest.raises(V2LError, match="V2L_ENV='prod'"):
        environment("prod")
    monkeypatch.setenv("V2L_PLATFORM_ROOT", str(tmp_path))
    with pytest.raises(V2LError, match="RAY_ADDRESS"):
        environment("cluster")
    monkeypatch.setenv("RAY_ADDRESS", "10.0.0.5:6379")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "postgresql://mlflow@db/mlflow")
    cluster = environment("cluster")
    assert cluster.resources["ray"].address == "10.0.0.5:6379"
    assert cluster.resources["mlflow"].uri() == "postgresql://mlflow@db/mlflow"
    assert cluster.resources["paths"].of("train") == str(tmp_path / "train")
    assert cluster.schedule_status == dg.DefaultScheduleStatus.RUNNING
    # The training resource hands back the library's TrainConfig with this run's paths filled in.
    cfg = cluster.resources["train"].train_config(str(tmp_path / "t"), str(tmp_path / "c"), "sqlite:////x.db", None)
    assert (
        cfg.name == "tiny"
        and cfg.max_steps == 30
        and cfg.batch_size == 2
        and str(cfg.data.corpus) == str(tmp_path / "c")
    )
    assert cfg.tracking.uri == "sqlite:////x.db" and cfg.ray.workers == 1


def test_content_version_tracks_the_bytes(tmp_path):
    import dataclasses

    from v2l.data.config import CorpusConfig
    from v2l.data.content_version import content_version, snapshot

    folder = tmp_path / "inbox"
    folder.mkdir()
    (folder / "a.mp4").write_bytes(b"one")
    cfg = CorpusConfig(content_dirs=(str(folder),))
    first = content_version(cfg)
    assert content_version(cfg) == first and len(first) == 16
    frozen = snapshot(folder, tmp_path / "frozen")
    assert content_version(dataclasses.replace(cfg, content_dirs=(str(frozen),))) == first  # paths do not count
    (folder / "a.mp4").write_bytes(b"two")
    assert content_version(cfg) != first
    assert content_version(dataclasses.replace(cfg, seed=1)) != content_version(cfg)


def test_dagster_yaml_sets_retries_pool_and_monitoring(tmp_path):
    import shutil
    from pathlib import Path

    shutil.copy(Path(__file__).resolve().parent.parent / "dagster.yaml", tmp_path / "dagster.yaml")
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        assert instance.run_retries_enabled and instance.run_retries_max_retries == 1
        assert instance.run_monitoring_enabled and instance.run_monitoring_max_runtime_seconds == 21600
        assert type(instance.run_storage).__name__ == "SqliteRunStorage"
        assert str(tmp_path) in instance.root_directory
        pools = instance.get_concurrency_config().pool_config
        assert pools.default_pool_limit == 1 and pools.pool_granularity.value == "run"
