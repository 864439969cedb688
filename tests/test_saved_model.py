"""One save/load convention (v2l.saved_model): every project model round-trips bit-identically through
config.json + model.safetensors, the committed ones load, and checkpoints of the old name still load."""

import shutil

import pytest
import torch
from safetensors.torch import load_file

from v2l.backbones.tiny import TINY_WEIGHTS
from v2l.errors import V2LError
from v2l.evaluation.clip_model import TinyClip
from v2l.evaluation.judge import VideoJudge
from v2l.evaluation.lit_clip import LIT_WEIGHTS, LitHeads
from v2l.model import Video2LoRA
from v2l.saved_model import CONFIG_FILE, LEGACY_WEIGHTS_FILE, MODEL_FILE

CLIPS = torch.rand(2, 3, 9, 48, 48, generator=torch.Generator().manual_seed(0)) * 2 - 1


def _perturbed(model: torch.nn.Module) -> torch.nn.Module:
    """Move the weights off their init so a load that silently kept the init would show."""
    with torch.no_grad():
        for i, t in enumerate(model.state_dict().values()):
            if t.is_floating_point():
                t.add_(0.01 * (i % 7 + 1))
    return model.eval()


def _outputs(name: str, model) -> list[torch.Tensor]:
    with torch.no_grad():
        if name == "judge":
            return [model(CLIPS)]
        if name == "clip":
            return [model.encode_image(CLIPS[:, :, 0]), model.encode_text(["a red car pans left"])]
        if name == "lit":
            feats = torch.Generator().manual_seed(1)
            return [
                model.image(torch.rand(2, model.cfg["image_dim"], generator=feats)),
                model.text(torch.rand(2, model.cfg["text_dim"], generator=feats)),
            ]
        return [model.predict(CLIPS)]


MAKERS = {"judge": lambda: VideoJudge(["a", "b", "c"], width=8), "clip": TinyClip, "lit": LitHeads}
LOADERS = {"judge": VideoJudge.load, "clip": TinyClip.load, "lit": LitHeads.load}


@pytest.mark.parametrize("name", sorted(MAKERS))
def test_round_trip_is_bit_identical(name, tmp_path):
    model = _perturbed(MAKERS[name]())
    model.save(tmp_path / name)
    assert sorted(p.name for p in (tmp_path / name).iterdir()) == [CONFIG_FILE, MODEL_FILE]
    loaded = LOADERS[name](tmp_path / name)
    for a, b in zip(_outputs(name, model), _outputs(name, loaded)):
        assert torch.equal(a, b)


def test_hypernet_round_trip_is_bit_identical(tiny_model, tmp_path):
    tiny_model.save(tmp_path / "h")
    assert sorted(p.name for p in (tmp_path / "h").iterdir()) == [CONFIG_FILE, MODEL_FILE]
    loaded = Video2LoRA.from_checkpoint(tmp_path / "h", tiny_model.backbone)
    assert loaded.version() == tiny_model.version()
    assert torch.equal(_outputs("hypernet", loaded)[0], _outputs("hypernet", tiny_model)[0])


@pytest.mark.parametrize(
    "name,folder", [("judge", TINY_WEIGHTS / "judge"), ("clip", TINY_WEIGHTS / "clip"), ("lit", LIT_WEIGHTS)]
)
def test_committed_models_load_exactly_their_file(name, folder):
    model = LOADERS[name](folder)
    state = model.weights()
    stored = load_file(str(folder / MODEL_FILE))
    assert state.keys() == stored.keys() and all(torch.equal(state[k], stored[k]) for k in stored)


def test_committed_hypernet_loads_exactly_its_file():
    folder = TINY_WEIGHTS / "hypernet"
    model = Video2LoRA.from_checkpoint(folder)
    stored = load_file(str(folder / MODEL_FILE))
    state = model.trainable_state_dict()
    assert state.keys() == stored.keys() and all(torch.equal(state[k], stored[k]) for k in stored)


def test_checkpoints_of_the_old_name_still_load(tiny_model, tmp_path):
    from v2l.evaluation.checkpoint_codes import checkpoint_codes
    from v2l.saved_model import weights_path

    old = tiny_model.save(tmp_path / "old")
    (old / MODEL_FILE).rename(old / LEGACY_WEIGHTS_FILE)
    assert weights_path(old) == old / LEGACY_WEIGHTS_FILE
    assert Video2LoRA.from_checkpoint(old, tiny_model.backbone).version() == tiny_model.version()
    (old / "train_config.json").write_text("{}")
    assert checkpoint_codes(old) is None


def test_training_checkpoint_writes_the_new_name_and_reads_the_old(tiny_model, tmp_path):
    from v2l.training.checkpoints import load_checkpoint, save_checkpoint

    params = tiny_model.trainable_parameters()
    opt = torch.optim.AdamW(params, lr=1e-3)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 1.0)
    folder = save_checkpoint(tmp_path / "run", 3, tiny_model, opt, sched, {"samples": 0}, 2, "{}")
    assert (folder / MODEL_FILE).is_file() and not (folder / LEGACY_WEIGHTS_FILE).exists()
    shutil.move(folder / MODEL_FILE, folder / LEGACY_WEIGHTS_FILE)
    assert load_checkpoint(folder, tiny_model, opt, sched)["step"] == 3


def test_a_missing_file_is_one_line_naming_it(tmp_path):
    VideoJudge(["a"], width=8).save(tmp_path)
    (tmp_path / MODEL_FILE).unlink()
    with pytest.raises(V2LError) as exc:
        VideoJudge.load(tmp_path)
    msg = str(exc.value)
    assert "\n" not in msg and str(tmp_path / MODEL_FILE) in msg and "v2l pretrain judge" in msg
