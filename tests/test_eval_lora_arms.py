"""The LoRAs the evaluation generates with: a batch that shares one LoRA is merged into the weights once (same
videos as per-sample factors, undone after), and the per-condition arm read from a labelled LoRA library."""

import json

import pytest
import torch

from v2l.evaluation.job import EvalConfig


def _record_merges(net):
    """A forward hook on every LightLoRA module: for each forward, whether it ran with a merged shared weight."""
    seen = []
    hooks = [
        m.register_forward_hook(lambda mod, args, out: seen.append(mod.shared_weight is not None))
        for m in net.modules_list
    ]
    return seen, hooks


def _lora_batch(net, n, same: bool, seed=1):
    g = torch.Generator().manual_seed(seed)
    r, a, b = net.cfg.r, net.cfg.a, net.cfg.b
    A, B = torch.randn(n, len(net), r, a, generator=g) * 0.5, torch.randn(n, len(net), b, r, generator=g) * 0.5
    return (A[:1].repeat(n, 1, 1, 1), B[:1].repeat(n, 1, 1, 1)) if same else (A, B)


def test_generate_merges_a_batch_that_shares_one_lora_and_undoes_it(tiny_model):
    from v2l.inference.generate import generate, sample

    net = tiny_model.network
    images = torch.rand(3, 3, tiny_model.backbone.spec.height, tiny_model.backbone.spec.width) * 2 - 1
    prompts = ["a cat on grass", "a red rocket", "a cup of coffee"]
    A, B = _lora_batch(net, 3, same=True)
    seen, hooks = _record_merges(net)
    try:
        merged = generate(tiny_model, images, prompts, A, B, steps=2, guidance=2.0, seed=4)  # CFG: batch 6
        assert seen and all(seen), "every LightLoRA forward used the merged weight"
        assert all(m.shared_weight is None and m.down is None and m.merged is None for m in net.modules_list), (
            "the merge is undone after generation"
        )
        seen.clear()
        with net.applied(A, B, merge=False):  # the same LoRA as per-sample factors
            factored = sample(tiny_model.backbone, images, prompts, steps=2, guidance=2.0, seed=4)
        assert not any(seen)
        plain = generate(tiny_model, images, prompts, steps=2, guidance=2.0, seed=4)
        seen.clear()
        A2, B2 = _lora_batch(net, 3, same=False)
        generate(tiny_model, images, prompts, A2, B2, steps=2, guidance=2.0, seed=4)
        assert seen and not any(seen), "different LoRAs per sample are never merged into one weight"
    finally:
        for h in hooks:
            h.remove()
    torch.testing.assert_close(merged, factored, atol=1e-4, rtol=1e-4)
    assert (merged - plain).abs().max() > 1e-2, "the LoRA must change the videos, or the comparison proves nothing"


def _melt_clip_file(folder, name, seed):
    """A reference clip of `melt` rendered by the world on held-out content, written as an mp4."""
    from v2l.video.io import write_video
    from v2l.world.sampler import ClipSampler, WorldConfig, load_content

    world = WorldConfig()
    sampler = ClipSampler(world, load_content(world)["heldout"], ["melt"], seed=seed)
    clip = sampler.clip(seed, 0, seed)  # (3, F, H, W) in [-1, 1]
    frames = ((clip.permute(1, 2, 3, 0).clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).numpy()
    return write_video(folder / name, frames, fps=8)


@pytest.fixture(scope="module")
def melt_library(tmp_path_factory):
    """A LoRA library of the committed hypernetwork with two labelled `melt` references and an unlabelled one."""
    from v2l.library.build import build_library, local_executor
    from v2l.library.writer import LoRAWriter
    from v2l.model import default_model
    from v2l.video.sample import write_sample

    root = tmp_path_factory.mktemp("melt-lib")
    refs = root / "refs"
    refs.mkdir()
    _melt_clip_file(refs, "melt_a.mp4", 1)
    _melt_clip_file(refs, "melt_b.mp4", 2)
    write_sample(refs, "astronaut")
    (refs / "labels.csv").write_text("path,semantic\nmelt_a.mp4,melt\nmelt_b.mp4,melt\n")
    model = default_model()
    lib = root / "lib"
    build_library(refs, lib, model, local_executor(LoRAWriter(lib, model)), ["compact"], progress=False)
    return lib


def test_per_condition_arm_reads_a_lora_library_with_its_seconds(tmp_path, melt_library):
    from v2l.evaluation.arms import load_per_condition
    from v2l.evaluation.job import evaluate
    from v2l.inference.generate import generate
    from v2l.library.index import read_library
    from v2l.lora.files import load_compact
    from v2l.model import default_model

    loras = load_per_condition(melt_library)
    assert set(loras) == {"melt"} and loras["melt"].format == "compact"
    rows = read_library(melt_library).rows
    first = min(sha for sha, r in rows.items() if r["label"] == "melt")  # the smallest labelled sha256
    assert loras["melt"].adapter == melt_library / rows[first]["compact_path"]
    assert loras["melt"].train_seconds == pytest.approx(rows[first]["seconds"])

    out = tmp_path / "eval"
    summary = evaluate(
        EvalConfig(
            out=out,
            split="seen",
            semantics=["melt", "sepia"],
            per_semantic=2,
            arms=["no_lora", "per_condition"],
            per_condition=melt_library,
            steps=2,
            batch=2,
            mlflow=False,
            sample_videos=0,
        )
    )
    arm = summary["splits"]["seen"]["arms"]["per_condition"]
    assert arm["samples"] == 2 and set(arm["per_semantic"]) == {"melt"}  # only the semantic that has a LoRA
    assert arm["all"]["seconds_per_lora"]["mean"] == pytest.approx(rows[first]["seconds"])
    assert summary["per_condition_train_seconds"] == {"melt": pytest.approx(rows[first]["seconds"])}
    samples = [json.loads(line) for line in (out / "samples.jsonl").read_text().splitlines()]
    melt = {r["arm"]: r for r in samples if r["semantic"] == "melt" and r["index"] == 0}
    assert melt["per_condition"]["psnr"] != melt["no_lora"]["psnr"], "the library's LoRA changes the generation"

    # The arm generated with exactly that file's LoRA (merged once for the chunk).
    from v2l.evaluation.job import build_plans
    from v2l.evaluation.metrics import psnr
    from v2l.evaluation.runner import Generator

    model = default_model()
    cfg = EvalConfig(
        out=out,
        split="seen",
        semantics=["melt", "sepia"],
        per_semantic=2,
        arms=["per_condition"],
        per_condition=melt_library,
        steps=2,
        batch=2,
    )
    plan = build_plans(cfg, model, None)[0]
    task = plan.tasks[0]
    lora = load_compact(loras["melt"].adapter)
    want = generate(
        model,
        task.images,
        task.captions,
        lora.A_pred[None].float(),
        lora.B_pred[None].float(),
        scale=lora.scale,
        steps=2,
        seed=task.seed,
    )
    got = Generator(None, 2).run(task).videos
    torch.testing.assert_close(got, want)
    truth = plan.targets[task.indices[0]].truth
    assert psnr(got[0], truth) == pytest.approx(melt["per_condition"]["psnr"], abs=1e-4)


def test_a_library_of_another_hypernetwork_is_refused(tmp_path, melt_library):
    from v2l.backbones import get_spec
    from v2l.config import V2LConfig
    from v2l.errors import V2LError
    from v2l.evaluation.job import evaluate
    from v2l.model import Video2LoRA

    other = Video2LoRA(get_spec("tiny").default(), V2LConfig(preset="tiny"), seed=5).save(tmp_path / "other")
    with pytest.raises(V2LError, match="made by hypernetwork version"):
        evaluate(
            EvalConfig(
                out=tmp_path / "eval",
                checkpoint=other,
                split="seen",
                semantics=["melt"],
                per_semantic=1,
                arms=["per_condition"],
                per_condition=melt_library,
                steps=2,
                mlflow=False,
            )
        )
    assert not (tmp_path / "eval" / "summary.json").exists()
