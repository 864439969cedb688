"""The old way on Ray Train: per-condition peft LoRAs, judged while training, adapters saved, MLflow logged."""

import json

import pytest
from safetensors.torch import load_file


@pytest.mark.integration
def test_per_condition_loras_on_ray_train(tmp_path):
    import mlflow

    from v2l import ray_cluster
    from v2l.baselines.per_condition_job import PerConditionConfig, fit

    cfg = PerConditionConfig(
        semantics=["pan_left", "sepia"],
        minutes=0.4,
        clips=16,
        check_every_s=8.0,
        samples=2,
        sample_steps=2,
        workers=2,
        out=tmp_path / "pc",
    )
    ray_cluster.connect(num_cpus=2)
    try:
        summary = fit(cfg)
    finally:
        ray_cluster.shutdown()
    assert set(summary["per_semantic"]) == {"pan_left", "sepia"}
    for name, r in summary["per_semantic"].items():
        assert r["steps"] > 0 and 0 < r["seconds_to_final_accuracy"] <= r["seconds"]
        assert len(r["curve"]) >= 2 and r["curve"][-1]["judge_accuracy"] == r["judge_accuracy"]
        adapter = load_file(str(tmp_path / "pc" / name / "adapter.safetensors"))
        assert any("lora_B" in k for k in adapter) and any(
            v.abs().sum() > 0 for k, v in adapter.items() if "lora_B" in k
        ), "the adapter was trained"
        assert json.loads((tmp_path / "pc" / name / "result.json").read_text())["semantic"] == name
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'pc' / 'mlflow.db'}")
    runs = mlflow.search_runs(experiment_names=["v2l-per-condition"])
    assert len(runs) == 1 and runs["metrics.mean_judge_accuracy"].iloc[0] == summary["mean_judge_accuracy"]
    from v2l.mlflow_store import local_path, run_source

    run = mlflow.get_run(runs["run_id"].iloc[0])
    assert run.data.tags["mlflow.source.name"] == run_source()
    artifacts = local_path(run.info.artifact_uri)
    assert (tmp_path / "pc").resolve() in artifacts.resolve().parents, "artifacts live with the job's output"
    for name in summary["per_semantic"]:
        logged = mlflow.MlflowClient().list_artifacts(run.info.run_id, f"adapters/{name}")
        assert {a.path for a in logged} == {f"adapters/{name}/adapter.safetensors", f"adapters/{name}/result.json"}
        assert (artifacts / "adapters" / name / "adapter.safetensors").is_file()


def test_per_condition_lora_resumes_exactly_from_its_checkpoint(tmp_path):
    """The shared loop's step folders: 2 steps, a fresh process state, 2 more == 4 steps in one go."""
    import torch

    from v2l.backbones import get_spec
    from v2l.baselines.per_condition import adapter_state, train_lora

    def run(run_dir, steps):
        backbone = get_spec("tiny").default()
        train_lora(
            backbone, "pan_left", minutes=60, batch=2, clips=8, max_steps=steps, run_dir=run_dir, checkpoint_every_s=0.0
        )
        return adapter_state(backbone, "pan_left")

    whole = run(tmp_path / "whole", 4)
    first = run(tmp_path / "split", 2)
    assert (tmp_path / "split" / "checkpoints" / "latest").read_text() == "step-00000002"
    resumed = run(tmp_path / "split", 4)
    assert (tmp_path / "split" / "checkpoints" / "latest").read_text() == "step-00000004"
    assert any(not torch.equal(first[k], whole[k]) for k in whole), "two steps differ from four"
    for k in whole:
        assert torch.equal(resumed[k], whole[k]), k


def test_per_condition_lora_wraps_the_modules_it_is_given():
    """`targets` picks the wrapped modules: the feed-forward gets adapter tensors only when named, and trains."""
    from v2l.backbones import get_spec
    from v2l.baselines.per_condition import adapter_state, train_lora

    def wrapped(targets):
        backbone = get_spec("tiny").default()
        kwargs = {"targets": targets} if targets else {}
        train_lora(backbone, "pan_left", minutes=60, batch=2, clips=4, max_steps=2, **kwargs)
        return adapter_state(backbone, "pan_left")

    default = wrapped(None)
    assert not any(".ff." in k for k in default) and any("attn1.to_q" in k for k in default)
    with_ff = wrapped(["attn1.to_q", "ff.net.2"])
    assert {k.split(".lora_")[0].split("transformer_blocks.0.")[-1] for k in with_ff if "blocks.0." in k} == {
        "attn1.to_q",
        "ff.net.2",
    }
    assert any(v.abs().sum() > 0 for k, v in with_ff.items() if "ff.net.2.lora_B" in k), "the feed-forward trained"
