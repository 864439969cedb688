"""LoRA files: compact format, diffusers/peft export through stock load_lora_weights, kohya round trip, refusals."""

import pytest
import torch

from v2l.config import LoRAConfig, V2LConfig
from v2l.errors import BadLoRAFileError, IncompatibleLoRAError
from v2l.inference.predict import predict_lora, write_lora
from v2l.lora.files import check_compatible, load_compact, load_standard, standard_pairs
from v2l.model import Video2LoRA


@pytest.fixture()
def lora_and_model(tiny_model, sample_paths):
    ref, _ = sample_paths
    # Make the LoRA large enough that a wrong load would show.
    with torch.no_grad():
        for p in tiny_model.network.aux_parameters():
            p.mul_(20.0)
    return predict_lora(tiny_model, ref), tiny_model


def test_compact_round_trip_and_size(lora_and_model, tmp_path):
    lora, model = lora_and_model
    path = write_lora(tmp_path / "l.safetensors", lora, model, "compact")
    back = load_compact(path)
    assert back.A_pred.dtype == torch.bfloat16
    torch.testing.assert_close(back.A_pred.float(), lora.A_pred.to(torch.bfloat16).float())
    assert back.metadata["hypernet_sha256"] == model.version()
    assert back.metadata["reference_sha256"] == lora.metadata["reference_sha256"]
    n = len(model.network)
    assert path.stat().st_size < n * 150 * 2 + 1024
    check_compatible(back, model)


def test_diffusers_export_loads_with_stock_load_lora_weights(lora_and_model, tmp_path, tiny_spec, transformer_inputs):
    lora, model = lora_and_model
    path = write_lora(tmp_path / "d.safetensors", lora, model, "diffusers")
    # A freshly built pipeline: the fixture's deterministic backbone weights, no v2l code involved.
    pipe = tiny_spec.random_init(seed=0).pipeline()
    pipe.load_lora_weights(str(path), adapter_name="v2l")
    inputs = transformer_inputs(tiny_spec, 1, seed=5)
    stored = load_compact(write_lora(tmp_path / "c.safetensors", lora, model, "compact"))
    with torch.no_grad():
        ours_base = model.backbone.transformer(**inputs)[0]
        with model.network.applied(stored.A_pred[None].float(), stored.B_pred[None].float()):
            ours = model.backbone.transformer(**inputs)[0]
        theirs = pipe.transformer(**inputs)[0]
    assert (ours - ours_base).abs().max() > 1e-3, "the LoRA must change the output for the test to mean anything"
    assert (ours - theirs).abs().max() <= 5e-4  # fp32 summation order; a wrong mapping gives ~1e-1


def test_kohya_export_round_trips(lora_and_model, tmp_path):
    lora, model = lora_and_model
    path = write_lora(tmp_path / "k.safetensors", lora, model, "kohya")
    back = load_standard(path)
    stored = load_compact(write_lora(tmp_path / "c.safetensors", lora, model, "compact"))
    expected = standard_pairs(type(stored)(stored.A_pred.float(), stored.B_pred.float(), stored.metadata), model)
    assert list(back) == list(expected)
    for name, (down, up) in expected.items():
        torch.testing.assert_close(back[name][0], down)
        torch.testing.assert_close(back[name][1], up)
    from safetensors import safe_open

    with safe_open(str(path), "pt") as f:
        keys = set(f.keys())
    # ComfyUI's native CogVideoX module names (tests/test_kohya_keys.py resolves them all).
    assert "lora_unet_blocks_0_attn_out.lora_down.weight" in keys
    assert "lora_unet_blocks_0_q.alpha" in keys


def test_lora_from_another_hypernet_version_is_refused(lora_and_model, tmp_path):
    lora, model = lora_and_model
    other = Video2LoRA(model.backbone.spec.random_init(), model.cfg, seed=1)
    with pytest.raises(IncompatibleLoRAError, match="hypernetwork version"):
        check_compatible(lora, other)


def test_lora_from_another_module_list_is_refused(lora_and_model, tiny_spec):
    lora, _ = lora_and_model
    cfg = V2LConfig(lora=LoRAConfig(target_modules=("attn1.to_q", "attn1.to_v")))
    other = Video2LoRA(tiny_spec.random_init(), cfg)
    with pytest.raises(IncompatibleLoRAError, match="module list"):
        check_compatible(lora, other)


@pytest.mark.parametrize("content", [b"", b"not a safetensors file at all", "truncate"])
def test_broken_lora_files_give_clear_errors(lora_and_model, tmp_path, content):
    lora, model = lora_and_model
    path = tmp_path / "bad.safetensors"
    if content == "truncate":
        good = write_lora(tmp_path / "good.safetensors", lora, model, "compact").read_bytes()
        path.write_bytes(good[: len(good) // 2])
    else:
        path.write_bytes(content)
    with pytest.raises(BadLoRAFileError, match="bad.safetensors"):
        load_compact(path)


def test_standard_export_is_not_taken_for_compact(lora_and_model, tmp_path):
    lora, model = lora_and_model
    path = write_lora(tmp_path / "d.safetensors", lora, model, "diffusers")
    with pytest.raises(BadLoRAFileError, match="standard export"):
        load_compact(path)
