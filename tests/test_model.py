"""Video2LoRA checkpoints: save/load reproduces predictions; the version hash tracks the weights."""

import pytest
import torch
from typer.testing import CliRunner

from v2l.cli.main import app
from v2l.errors import V2LError
from v2l.lora.files import load_compact
from v2l.model import Video2LoRA


def test_checkpoint_round_trip(tiny_model, tmp_path):
    with torch.no_grad():
        for p in tiny_model.network.aux_parameters():
            p.add_(0.01)
    ckpt = tiny_model.save(tmp_path / "ckpt")
    from v2l.backbones import get_spec

    loaded = Video2LoRA.from_checkpoint(ckpt, get_spec("tiny").random_init(seed=0))  # the fixture's backbone
    assert loaded.version() == tiny_model.version()
    ref = torch.rand(1, 3, 9, 48, 48) * 2 - 1
    with torch.no_grad():
        torch.testing.assert_close(loaded.predict(ref), tiny_model.predict(ref), atol=0, rtol=0)
    before = loaded.version()
    with torch.no_grad():
        loaded.hypernet.delta_proj[1].weight.add_(1e-3)
    assert loaded.version() != before


def test_not_a_checkpoint_is_a_clear_error(tmp_path):
    with pytest.raises(V2LError, match="is not a v2l checkpoint"):
        Video2LoRA.from_checkpoint(tmp_path)


def test_cli_uses_the_checkpoint(tiny_model, sample_paths, tmp_path):
    ref, _ = sample_paths
    ckpt = tiny_model.save(tmp_path / "ckpt")
    out = tmp_path / "l.safetensors"
    result = CliRunner().invoke(app, ["predict", "--reference", str(ref), "--out", str(out), "--checkpoint", str(ckpt)])
    assert result.exit_code == 0, result.output
    assert "hypernetwork is the deterministic random init" not in result.output
    assert load_compact(out).metadata["hypernet_sha256"] == tiny_model.version()
