"""The kohya/ComfyUI export resolves, through the naming rule ComfyUI's LoRA loader applies, to ComfyUI's native
CogVideoX modules, and those are exactly the diffusers transformer's LightLoRA modules: the tiny preset with a real
export, CogVideoX-5B I2V on the meta device. No ComfyUI runs here (see the README for what is and is not checked).

The two tables below are written from ComfyUI's source (comfy/ldm/cogvideo/model.py, comfy/lora.py), on purpose
independently of `v2l.lora.files`, so a wrong export table cannot pass by agreeing with itself.
"""

import json

import pytest
import torch
from safetensors import safe_open

from v2l.backbones import get_spec
from v2l.config import V2LConfig
from v2l.inference.predict import predict_lora, write_lora
from v2l.lora.files import kohya_key
from v2l.lora.lightlora import target_module_names

# ComfyUI's CogVideoXBlock (its transformer keeps them in `blocks`): native Linear -> the diffusers module whose
# weight it holds (diffusers keeps them in `transformer_blocks`).
NATIVE_BLOCK_LINEARS = {
    "q": "attn1.to_q",
    "k": "attn1.to_k",
    "v": "attn1.to_v",
    "attn_out": "attn1.to_out.0",
    "ff_proj": "ff.net.0.proj",
    "ff_out": "ff.net.2",
    "norm1.linear": "norm1.linear",
    "norm2.linear": "norm2.linear",
}


def native_weight_keys(num_layers: int) -> list[str]:
    """The native model's Linear weights as ComfyUI's model patcher sees them (under `diffusion_model.`)."""
    return [f"diffusion_model.blocks.{i}.{n}.weight" for i in range(num_layers) for n in NATIVE_BLOCK_LINEARS]


def comfy_unet_key_map(state_keys: list[str]) -> dict[str, str]:
    """ComfyUI's generic rule for kohya keys (model_lora_keys_unet): every `diffusion_model.<path>.weight` is
    reachable as `lora_unet_<path with dots as underscores>`."""
    prefix, suffix = "diffusion_model.", ".weight"
    return {
        "lora_unet_" + k[len(prefix) : -len(suffix)].replace(".", "_"): k
        for k in state_keys
        if k.startswith(prefix) and k.endswith(suffix)
    }


def diffusers_module(native_key: str) -> str:
    """`diffusion_model.blocks.3.attn_out.weight` -> `transformer_blocks.3.attn1.to_out.0`."""
    path = native_key[len("diffusion_model.") : -len(".weight")]
    _, index, inner = path.split(".", 2)
    return f"transformer_blocks.{index}.{NATIVE_BLOCK_LINEARS[inner]}"


def resolve(transformer, lora_bases: list[str]) -> dict[str, torch.nn.Linear]:
    key_map = comfy_unet_key_map(native_weight_keys(len(transformer.transformer_blocks)))
    unknown = [b for b in lora_bases if b not in key_map]
    assert not unknown, f"{len(unknown)} kohya keys ComfyUI would not load, e.g. {unknown[:3]}"
    out = {}
    for base in lora_bases:
        module = transformer.get_submodule(diffusers_module(key_map[base]))
        assert isinstance(module, torch.nn.Linear), (base, type(module))
        out[base] = module
    return out


def test_kohya_names_of_5b_resolve_to_its_168_attention_linears():
    spec = get_spec("cogvideox-5b-i2v")
    transformer = spec.meta_transformer()
    names = target_module_names(transformer, V2LConfig(preset="cogvideox-5b-i2v").lora)
    bases = [kohya_key(n) for n in names]
    modules = resolve(transformer, bases)
    assert len(bases) == len(set(bases)) == 168
    # each key lands on the very module the LightLoRA wraps, and no two on the same one
    assert [id(modules[b]) for b in bases] == [id(transformer.get_submodule(n)) for n in names]
    assert all(m.in_features == m.out_features == 3072 for m in modules.values())
    assert bases[:4] == [
        "lora_unet_blocks_0_q",
        "lora_unet_blocks_0_k",
        "lora_unet_blocks_0_v",
        "lora_unet_blocks_0_attn_out",
    ]


def test_tiny_kohya_file_loads_by_comfyui_rule_and_equals_the_diffusers_export(tiny_model, sample_paths, tmp_path):
    ref, _ = sample_paths
    with torch.no_grad():  # a LoRA large enough that a wrong mapping would show
        for p in tiny_model.network.aux_parameters():
            p.mul_(20.0)
    lora = predict_lora(tiny_model, ref)
    kohya = write_lora(tmp_path / "k.safetensors", lora, tiny_model, "kohya")
    diffusers = write_lora(tmp_path / "d.safetensors", lora, tiny_model, "diffusers")
    with safe_open(str(kohya), "pt") as f:
        k = {key: f.get_tensor(key) for key in f.keys()}
        modules_meta = json.loads(f.metadata()["modules"])
    with safe_open(str(diffusers), "pt") as f:
        d = {key: f.get_tensor(key) for key in f.keys()}

    fresh = get_spec("tiny").random_init(seed=0).transformer  # the fixture's weights, unwrapped, as a client holds it
    bases = sorted({key.split(".", 1)[0] for key in k})
    modules = resolve(fresh, bases)
    assert len(bases) == len(tiny_model.network) == 24

    # ComfyUI's loader takes `<base>.lora_up.weight`, `.lora_down.weight` and `.alpha` per key: nothing left over
    used = {f"{b}.{s}" for b in bases for s in ("lora_up.weight", "lora_down.weight", "alpha")}
    assert used == set(k), f"keys ComfyUI would warn about: {sorted(set(k) - used)[:3]}"

    key_map = comfy_unet_key_map(native_weight_keys(len(fresh.transformer_blocks)))
    by_module = {diffusers_module(key_map[b]): b for b in bases}
    assert sorted(by_module) == sorted(modules_meta)
    biggest = 0.0
    for name, base in by_module.items():
        down, up = k[f"{base}.lora_down.weight"], k[f"{base}.lora_up.weight"]
        module = modules[base]
        assert down.shape == (1, module.in_features) and up.shape == (module.out_features, 1)
        # ComfyUI's LoRA patch: W += up @ down * alpha / rank; it must equal the diffusers export's delta
        delta = up @ down * (float(k[f"{base}.alpha"]) / down.shape[0])
        expected = d[f"transformer.{name}.lora_B.weight"] @ d[f"transformer.{name}.lora_A.weight"]
        torch.testing.assert_close(delta, expected)
        biggest = max(biggest, float(expected.abs().max()))
    assert biggest > 1e-3, "the LoRA must be non-zero for the comparison to mean anything"


def test_stock_diffusers_has_no_kohya_converter_for_cogvideox(tiny_model, sample_paths, tmp_path):
    """diffusers 0.42.1's CogVideoXLoraLoaderMixin converts no kohya keys: load_lora_weights wraps 0 modules (it logs
    "No LoRA keys associated to CogVideoXTransformer3DModel"). This pins that fact (stated in the README); if
    diffusers gains a converter, this fails and says so."""
    import peft

    ref, _ = sample_paths
    kohya = write_lora(tmp_path / "k.safetensors", predict_lora(tiny_model, ref), tiny_model, "kohya")
    pipe = get_spec("tiny").random_init(seed=0).pipeline()
    pipe.load_lora_weights(str(kohya), adapter_name="v2l")
    wrapped = sum(isinstance(m, peft.tuners.lora.LoraLayer) for m in pipe.transformer.modules())
    assert wrapped == 0, f"diffusers now wraps {wrapped} modules from a kohya file: test it like the diffusers export"


@pytest.mark.parametrize("name", ["transformer_blocks.0.attn2.to_q", "proj_out", "transformer_blocks.x.attn1.to_q"])
def test_modules_without_a_comfyui_name_are_refused(name):
    with pytest.raises(ValueError, match="no ComfyUI CogVideoX name"):
        kohya_key(name)
