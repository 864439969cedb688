"""Tiny-world pretraining: exact resume from checkpoints, model cards, refusal of corrupted weights."""

import json

import pytest
import torch

from v2l.cards.card import verify, write_card
from v2l.errors import V2LError
from v2l.pretrain.judge import JudgePretrainConfig, pretrain_judge
from v2l.training.loop import LoopConfig, latest_checkpoint_dir
from v2l.world.sampler import WorldConfig


def _judge_cfg(steps):
    # Warm-up longer than the run: the lr depends on the step only, so runs are comparable exactly.
    loop = LoopConfig(minutes=10, max_steps=steps, warmup_steps=100, log_every=1, threads=1)
    return JudgePretrainConfig(
        loop=loop,
        world=WorldConfig(procedural_train=4, procedural_heldout=2),
        batch=4,
        pool_clips=64,
        eval_per_semantic=1,
        width=8,
    )


def _weights(path):
    from safetensors.torch import load_file

    return load_file(str(path / "model" / "judge" / "model.safetensors"))


def test_resume_continues_exactly(tmp_path):
    straight = pretrain_judge(tmp_path / "a", None, _judge_cfg(4))
    pretrain_judge(tmp_path / "b", None, _judge_cfg(2))
    resumed = pretrain_judge(tmp_path / "b", None, _judge_cfg(4))
    assert straight["steps"] == resumed["steps"] == 4
    a, b = _weights(tmp_path / "a"), _weights(tmp_path / "b")
    assert all(torch.equal(a[k], b[k]) for k in a)
    losses_a = [h["loss"] for h in json.loads((tmp_path / "a" / "history.json").read_text())]
    losses_b = [h["loss"] for h in json.loads((tmp_path / "b" / "history.json").read_text())]
    assert losses_a == losses_b


def test_card_verification_catches_a_flipped_byte(tmp_path):
    model = tmp_path / "vae"
    model.mkdir()
    weights = model / "diffusion_pytorch_model.safetensors"
    from safetensors.torch import save_file

    save_file({"w": torch.arange(64, dtype=torch.float32)}, str(weights))
    card = write_card(model, "tiny vae", "v2l pretrain vae", "world-x", 0, 1.0, {"psnr_db": 20.0})
    assert verify(model)["files"] == card["files"]
    data = bytearray(weights.read_bytes())
    data[-3] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(V2LError, match="corrupted.*git checkout"):
        verify(model)


def test_corrupted_committed_weights_are_refused_by_the_preset(tmp_path):
    from v2l.backbones.tiny import TinySpec

    spec = TinySpec()
    vae = spec.build_vae()
    vae.save_pretrained(tmp_path / "vae")
    write_card(tmp_path / "vae", "tiny vae", "cmd", "world-x", 0, 1.0, {})
    spec.default_weights = tmp_path
    assert "vae trained" in spec.default().source
    weights = next((tmp_path / "vae").glob("*.safetensors"))
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0x01
    weights.write_bytes(bytes(data))
    with pytest.raises(V2LError, match="corrupted"):
        spec.default()


def test_vae_decoder_phase_keeps_the_latent_space_and_resumes(tmp_path):
    """Phase 2 trains the decoder only: encoder weights (and so every latent) are those of phase 1."""
    from safetensors.torch import load_file

    from v2l.pretrain.vae import VAEPretrainConfig, pretrain_vae

    def cfg(decoder_steps):
        loop = LoopConfig(minutes=10, max_steps=2, warmup_steps=1, log_every=1, threads=1)
        dec = LoopConfig(minutes=10, max_steps=decoder_steps, lr=1e-2, warmup_steps=1, log_every=1, threads=1)
        return VAEPretrainConfig(
            loop=loop,
            decoder_loop=dec,
            batch=2,
            pool_clips=8,
            eval_clips=4,
            world=WorldConfig(procedural_train=4, procedural_heldout=2),
        )

    def weights(name):
        return load_file(str(name / "vae" / "diffusion_pytorch_model.safetensors"))

    result = pretrain_vae(tmp_path, cfg(3))
    phase1, final = (
        weights(latest_checkpoint_dir(tmp_path)),
        load_file(str(tmp_path / "model" / "vae" / "diffusion_pytorch_model.safetensors")),
    )
    enc = [k for k in final if k.startswith("encoder.")]
    dec = [k for k in final if k.startswith("decoder.")]
    assert enc and all(torch.equal(phase1[k], final[k]) for k in enc)
    assert any(not torch.equal(phase1[k], final[k]) for k in dec)
    assert "psnr_db_before_decoder_finetune" in result["metrics"]
    history = json.loads((tmp_path / "decoder_phase" / "history.json").read_text())
    assert [h["step"] for h in history] == [1, 2, 3]
    # Both phases are complete: running the same command again trains nothing more.
    again = pretrain_vae(tmp_path, cfg(3))
    assert again["metrics"]["steps"] == 2
    assert json.loads((tmp_path / "decoder_phase" / "history.json").read_text()) == history


def test_clip_keeps_the_best_dev_weights_across_a_resume(tmp_path, caplog):
    """Model selection on training items set aside: the kept weights are those of the best dev score."""
    import logging
    import re

    from v2l.pretrain.clip import ClipPretrainConfig, pretrain_clip, split_dev
    from v2l.world.sampler import load_content

    world = WorldConfig(procedural_train=6, procedural_heldout=2)

    def cfg(steps):
        loop = LoopConfig(minutes=10, max_steps=steps, lr=1e-2, warmup_steps=1, log_every=1, threads=1)
        return ClipPretrainConfig(
            loop=loop,
            world=world,
            batch=8,
            pool_clips=64,
            dev_procedural=2,
            select_every=2,
            dev_frames_per_item=2,
            eval_frames_per_item=1,
        )

    with caplog.at_level(logging.INFO, logger="v2l"):
        pretrain_clip(tmp_path, cfg(3))
        result = pretrain_clip(tmp_path, cfg(6))
    scored = [re.match(r"step (\d+): dev retrieval ([0-9.]+)", r.getMessage()) for r in caplog.records]
    scored = [(int(m[1]), float(m[2])) for m in scored if m]
    # Run 1 scores steps 2 and 3 (its end); run 2 resumes at step 3 with step 2's best kept, then 4 and 6.
    assert [s for s, _ in scored] == [2, 3, 4, 6]
    candidates = {s: v for s, v in scored if s != 3}
    m = result["metrics"]
    assert m["dev_retrieval_top1"] == pytest.approx(max(candidates.values()))
    assert candidates[m["selected_step"]] == pytest.approx(max(candidates.values()))
    train, dev = split_dev(load_content(world)["train"], 2)
    assert (m["dev_items"], m["train_items"]) == (len(dev), len(train)) == (2, len(load_content(world)["train"]) - 2)
    # The saved model is the selected one: re-scoring it on the dev items gives the best score again.
    from v2l.evaluation.clip_model import TinyClip
    from v2l.evaluation.clip_retrieval import retrieval_top1

    r = retrieval_top1(TinyClip.load(tmp_path / "model" / "clip"), dev, world, 2, 42_000)
    assert (r["caption_to_frame_top1"] + r["frame_to_caption_top1"]) / 2 == pytest.approx(m["dev_retrieval_top1"])
    with pytest.raises(V2LError, match="dev-procedural 99.*smaller"):
        split_dev(train, 99)


def test_best_weights_keeps_the_best_copy_and_survives_a_checkpoint():
    from v2l.pretrain.clip import BestWeights

    net = torch.nn.Linear(3, 2)
    best = BestWeights()
    for step, score in ((1, 0.2), (2, 0.7), (3, 0.7), (4, 0.5)):
        with torch.no_grad():
            net.weight.fill_(step)
        best.offer(score, step, net)
    assert (best.score, best.step, best.last) == (0.7, 2, 0.5)  # a tie keeps the earlier weights
    resumed = BestWeights()
    resumed.load_state(best.state())
    resumed.restore(net)
    assert torch.equal(net.weight, torch.full((2, 3), 2.0))


def test_clip_extra_procedural_content_never_holds_a_heldout_caption(tmp_path):
    """Extra CLIP scenes come from their own seed stream and keep every held-out (and dev) caption unseen."""
    from v2l.pretrain.clip import ClipPretrainConfig, extra_procedural_content, pretrain_clip
    from v2l.world.sampler import load_content

    world = WorldConfig(procedural_train=6, procedural_heldout=8)
    content = load_content(world)
    heldout = {c.caption for c in content["heldout"]}
    everything = extra_procedural_content(world, 200, set())
    extra = extra_procedural_content(world, 200, heldout)
    assert any(c.caption in heldout for c in everything)  # so the filter has something to drop
    assert not any(c.caption in heldout for c in extra) and len(extra) < 200
    world_pixels = {c.image.tobytes() for c in content["train"] + content["heldout"]}
    assert not any(c.image.tobytes() in world_pixels for c in extra)
    assert [c.id for c in extra] == [c.id for c in extra_procedural_content(world, 200, heldout)]

    loop = LoopConfig(minutes=10, max_steps=2, lr=1e-3, warmup_steps=1, log_every=1, threads=1)
    result = pretrain_clip(
        tmp_path,
        ClipPretrainConfig(loop=loop, world=world, batch=8, pool_clips=64, extra_procedural=30, eval_frames_per_item=1),
    )
    m = result["metrics"]
    assert m["extra_procedural_items"] == len(extra_procedural_content(world, 30, heldout))
    assert m["train_captions"] > len({c.caption for c in content["train"]})
    assert result["data_version"].endswith("+extra-procedural-30")


def test_a_step_budgeted_run_records_its_steps_in_the_cards_command(tmp_path):
    """The card's command reruns the same training: a --max-steps run that dropped the flag would run for minutes."""
    from v2l.pretrain.jobs import train_judge

    card = train_judge(tmp_path / "steps", minutes=10, max_steps=3, threads=1, smoke=True)
    assert "--minutes 10.0 --max-steps 3" in card["command"] and card["command"].endswith("--smoke")
    card = train_judge(tmp_path / "minutes", minutes=10, threads=1, smoke=True, pool_clips=640)
    assert "--minutes 10.0 --seed" in card["command"] and "--max-steps" not in card["command"]
    assert "--pool-clips 640" in card["command"]  # the pool size decides what the judge learns
