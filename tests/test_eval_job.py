"""The evaluation job end to end on tiny splits: on a local Ray actor pool (the same numbers as in-process), with
its files and MLflow run read back; the reference-ignored guard; the registry's champion gate and `models:/`."""

import json

import pytest
import torch

from v2l.evaluation.job import EvalConfig

# Semantics the committed hypernetwork steers (100 % on its release card) plus a camera move it does not.
STEERED = ["dissolve", "explode", "melt", "squish", "sepia", "sketch"]
TIMINGS = ("seconds_per_video", "seconds_per_lora")


def _numbers(out) -> list[dict]:
    """samples.jsonl without the timings (which differ between runs)."""
    return [
        {k: v for k, v in json.loads(line).items() if k not in TIMINGS}
        for line in (out / "samples.jsonl").read_text().splitlines()
    ]


def _same(a: list[dict], b: list[dict]) -> bool:
    """Equal rows; floats to 1e-5 (CLIP features from two processes can differ in the last bits of fp32)."""
    import math

    def eq(x, y):
        if isinstance(x, float) and isinstance(y, float):
            return math.isclose(x, y, rel_tol=1e-5, abs_tol=1e-6)
        return x == y

    return len(a) == len(b) and all(x.keys() == y.keys() and all(eq(x[k], y[k]) for k in x) for x, y in zip(a, b))


@pytest.mark.integration
def test_tiny_evaluation_on_ray_writes_files_and_mlflow_run_and_matches_in_process(tmp_path, monkeypatch):
    import ray
    from mlflow import MlflowClient

    from v2l.evaluation.ray_actors import run
    from v2l.mlflow_store import run_source

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    base = dict(
        split="seen,zeroshot",
        semantics=["melt", "pan_left", "invert"],
        per_semantic=1,
        zeroshot_per_semantic=2,
        arms=["no_lora", "true_ref", "wrong_ref"],
        steps=2,
        batch=2,
        sample_videos=1,
    )
    try:
        summary = run(EvalConfig(out=tmp_path / "ray", workers=1, **base))
    finally:
        ray.shutdown()
    out = tmp_path / "ray"
    for name in (
        "summary.json",
        "samples.jsonl",
        "report.md",
        "charts/judge_acc.png",
        "contact_sheets/seen/melt.png",
        "contact_sheets/zeroshot/invert.png",
        "videos/seen/000_true_ref.mp4",
    ):
        assert (out / name).is_file(), name
    rows = _numbers(out)
    assert len(rows) == (2 + 2) * 3  # (2 seen + 2 zero-shot targets) x 3 arms
    seen = summary["splits"]["seen"]["arms"]["true_ref"]["all"]
    for metric in ("judge_acc", "psnr", "ssim", "clip_t", "clip_i_adjacent", "motion_sim", "flow_epe"):
        assert seen[metric]["n"] == 2 and len(seen[metric]["ci95"]) == 2, metric
    assert "camera" in summary["splits"]["seen"]["arms"]["true_ref"]["per_family"]
    assert "true_minus_wrong_judge_acc" in summary["splits"]["seen"]["guard"]

    client = MlflowClient(tracking_uri=summary["mlflow"]["tracking_uri"])
    mlrun = client.get_run(summary["mlflow"]["run_id"])
    assert mlrun.data.params["checkpoint_sha256"] == summary["model"]["version"]
    assert mlrun.data.params["steps"] == "2" and mlrun.data.params["split"] == "seen,zeroshot"
    assert mlrun.data.metrics["seen.true_ref.judge_acc"] == pytest.approx(seen["judge_acc"]["mean"])
    assert mlrun.data.metrics["seen.true_ref.psnr.ci_low"] == pytest.approx(seen["psnr"]["ci95"][0])
    artifacts = {a.path for a in client.list_artifacts(mlrun.info.run_id)}
    assert {"summary.json", "samples.jsonl", "report.md", "contact_sheets", "charts", "videos"} <= artifacts
    assert mlrun.info.artifact_uri.startswith((tmp_path / "ray" / "mlruns").as_uri()), (
        "artifacts live under the evaluation's own folder (v2l.mlflow_store)"
    )
    assert mlrun.data.tags["mlflow.source.name"] == run_source(), "the run's source is the command that ran it"
    assert mlrun.info.status == "FINISHED"

    run(EvalConfig(out=tmp_path / "local", workers=0, mlflow=False, **base))
    assert _same(_numbers(tmp_path / "local"), rows), "in-process and one Ray actor must give the same numbers"


def _constant_lora_checkpoint(directory):
    """The committed hypernetwork with its reference reader zeroed: every reference gives the same LoRA."""
    from v2l.model import default_model

    model = default_model()
    with torch.no_grad():
        model.hypernet.feature_proj.weight.zero_()
    return model.save(directory)


@pytest.fixture(scope="module")
def registry_store(tmp_path_factory):
    return f"sqlite:///{tmp_path_factory.mktemp('registry') / 'mlflow.db'}"


@pytest.fixture(scope="module")
def committed_eval(tmp_path_factory, registry_store):
    """The committed hypernetwork on a tiny seen split, registered into an empty registry."""
    from v2l.evaluation.job import evaluate

    out = tmp_path_factory.mktemp("committed")
    return evaluate(EvalConfig(out=out, **_guard_split(), register_model=True, tracking_uri=registry_store))


def _guard_split() -> dict:
    return dict(
        split="seen",
        semantics=STEERED,
        per_semantic=2,
        arms=["true_ref", "wrong_ref"],
        steps=10,
        batch=12,
        sample_videos=0,
    )


@pytest.mark.integration
def test_guard_fires_for_a_reference_ignoring_hypernetwork_not_for_the_committed_one(tmp_path, committed_eval):
    from v2l.evaluation.job import evaluate

    ignoring = evaluate(
        EvalConfig(
            out=tmp_path / "ignoring",
            checkpoint=_constant_lora_checkpoint(tmp_path / "c"),
            mlflow=False,
            **_guard_split(),
        )
    )
    arms = ignoring["splits"]["seen"]["arms"]
    gap = ignoring["splits"]["seen"]["guard"]["true_minus_wrong_judge_acc"]
    lo, hi = gap["ci95"]
    assert lo <= 0.0 <= hi, f"true and wrong references within noise for a constant LoRA: {gap}"
    assert arms["true_ref"]["all"]["judge_acc"]["mean"] == arms["wrong_ref"]["all"]["judge_acc"]["mean"]

    committed = committed_eval["splits"]["seen"]["guard"]["true_minus_wrong_judge_acc"]
    assert committed["ci95"][0] > 0.0, f"the committed hypernetwork follows its reference: {committed}"


@pytest.mark.integration
def test_registry_gate_and_models_uri(tmp_path, monkeypatch, committed_eval, registry_store):
    from typer.testing import CliRunner

    from v2l.backbones import get_spec
    from v2l.cli.main import app
    from v2l.config import V2LConfig
    from v2l.evaluation.job import evaluate
    from v2l.model import Video2LoRA, default_model
    from v2l.registry import resolve_model

    assert committed_eval["registry"]["alias"] == "champion"
    assert committed_eval["registry"]["reason"] == "no champion yet"

    random_ckpt = Video2LoRA(get_spec("tiny").default(), V2LConfig(preset="tiny"), seed=3).save(tmp_path / "random")
    challenger = evaluate(
        EvalConfig(
            out=tmp_path / "random-eval",
            checkpoint=random_ckpt,
            **_guard_split(),
            register_model=True,
            tracking_uri=registry_store,
        )
    )
    assert challenger["registry"]["alias"] == "challenger", challenger["registry"]
    assert challenger["registry"]["previous_champion"] == committed_eval["registry"]["version"]
    summary = json.loads((tmp_path / "random-eval" / "summary.json").read_text())
    assert summary["registry"]["reason"].startswith("seen true-reference accuracy")

    monkeypatch.setenv("V2L_MODEL_CACHE", str(tmp_path / "cache"))
    champion = resolve_model("models:/v2l-hypernet@champion", registry_store)
    assert Video2LoRA.from_checkpoint(champion).version() == default_model().version()
    second = resolve_model(f"models:/v2l-hypernet/{challenger['registry']['version']}", registry_store)
    assert Video2LoRA.from_checkpoint(second).version() == challenger["model"]["version"]

    # A library build takes the same spec: resolved to the champion's folder, which its driver and actors load.
    from v2l.errors import V2LError
    from v2l.library.config import LibraryBuildConfig

    monkeypatch.setenv("MLFLOW_TRACKING_URI", registry_store)
    lib_cfg = LibraryBuildConfig(references=tmp_path, out=tmp_path / "lib", model="models:/v2l-hypernet@champion")
    assert Video2LoRA.from_checkpoint(lib_cfg.resolved().checkpoint).version() == default_model().version()
    with pytest.raises(V2LError, match="not both"):
        LibraryBuildConfig(
            references=tmp_path, out=tmp_path / "lib", model="models:/v2l-hypernet@champion", checkpoint=random_ckpt
        ).resolved()
    monkeypatch.delenv("MLFLOW_TRACKING_URI")

    # The CLI takes the same spec (the registry named by MLFLOW_TRACKING_URI).
    from v2l.video.sample import write_sample

    ref, _ = write_sample(tmp_path / "in", "astronaut", 9, 48)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", registry_store)
    result = CliRunner().invoke(
        app,
        [
            "predict",
            "--reference",
            str(ref),
            "--out",
            str(tmp_path / "l.safetensors"),
            "--model",
            "models:/v2l-hypernet@champion",
        ],
    )
    assert result.exit_code == 0, result.output
    from v2l.lora.files import load_compact

    assert load_compact(tmp_path / "l.safetensors").metadata["hypernet_sha256"] == default_model().version()
    bad = CliRunner().invoke(
        app,
        [
            "predict",
            "--reference",
            str(ref),
            "--out",
            str(tmp_path / "m.safetensors"),
            "--model",
            "models:/v2l-hypernet@nosuchalias",
        ],
    )
    assert bad.exit_code == 2 and "not in the registry" in bad.output
    assert not (tmp_path / "m.safetensors").exists()


def test_per_condition_arm_reads_a_steer_folder_with_its_training_seconds(tmp_path):
    from v2l.baselines.per_condition_job import PerConditionConfig, train_one
    from v2l.evaluation.job import evaluate

    steer = PerConditionConfig(
        semantics=["melt"], minutes=0.4, clips=64, samples=1, sample_steps=2, check_every_s=1e6, out=tmp_path / "steer"
    )
    trained = train_one(steer, "melt")
    assert trained["steps"] >= 1
    summary = evaluate(
        EvalConfig(
            out=tmp_path / "eval",
            split="seen",
            semantics=["melt", "sepia"],
            per_semantic=2,
            arms=["no_lora", "per_condition"],
            per_condition=tmp_path / "steer",
            steps=2,
            batch=2,
            mlflow=False,
            sample_videos=0,
        )
    )
    arm = summary["splits"]["seen"]["arms"]["per_condition"]
    assert arm["samples"] == 2 and set(arm["per_semantic"]) == {"melt"}  # only the semantic that has a LoRA
    assert arm["all"]["seconds_per_lora"]["mean"] == pytest.approx(trained["seconds"])
    rows = [json.loads(line) for line in (tmp_path / "eval" / "samples.jsonl").read_text().splitlines()]
    melt = {r["arm"]: r for r in rows if r["semantic"] == "melt" and r["index"] == 0}
    assert melt["per_condition"]["psnr"] != melt["no_lora"]["psnr"], "the adapter changes the generation"
