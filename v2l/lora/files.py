"""LoRA files (DESIGN §5): the compact Video2LoRA format and standard rank-r exports.

* compact: `A_pred` (N, r, a) and `B_pred` (N, b, r) plus string metadata (format, backbone, hypernetwork
  version, module-list hash, r/a/b, scale, reference sha256). Needs the aux matrices that made it.
* diffusers/peft: `transformer.<module>.lora_A.weight` (r, in) and `.lora_B.weight` (out, r), loadable by
  `pipe.load_lora_weights`; the LoRA scale is folded into lora_B so peft's alpha/r = 1 reproduces it.
* kohya/ComfyUI: `lora_unet_<ComfyUI's native module path with _>.lora_down.weight`, `.lora_up.weight` and
  `.alpha` (= r), e.g. `lora_unet_blocks_0_attn_out` for diffusers' `transformer_blocks.0.attn1.to_out.0`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import torch

from v2l.errors import BadLoRAFileError, IncompatibleLoRAError
from v2l.lora.canonical import save_file_canonical
from v2l.tensor_files import read_safetensors

COMPACT_FORMAT = "v2l-lightlora/1"
STANDARD_FORMAT = "v2l-standard-lora/1"
FORMATS = ("compact", "diffusers", "kohya")


@dataclass
class CompactLoRA:
    A_pred: torch.Tensor  # (N, r, a)
    B_pred: torch.Tensor  # (N, b, r)
    metadata: dict[str, str]

    @property
    def scale(self) -> float:
        return float(self.metadata["scale"])


def compact_metadata(model, reference_sha256: str, scale: float | None = None) -> dict[str, str]:
    cfg = model.cfg.lora
    return {
        "format": COMPACT_FORMAT,
        "backbone": model.cfg.preset,
        "hypernet_sha256": model.version(),
        "modules_sha256": model.network.modules_sha256(),
        "r": str(cfg.r),
        "a": str(cfg.a),
        "b": str(cfg.b),
        "scale": repr(float(cfg.scale if scale is None else scale)),
        "reference_sha256": reference_sha256,
    }


def save_compact(
    path: str | Path,
    A_pred: torch.Tensor,
    B_pred: torch.Tensor,
    metadata: dict[str, str],
    dtype: torch.dtype = torch.bfloat16,
) -> Path:
    """One reference's LoRA: A_pred (N, r, a), B_pred (N, b, r), written atomically."""
    tensors = {
        "A_pred": A_pred.detach().to("cpu", dtype).contiguous(),
        "B_pred": B_pred.detach().to("cpu", dtype).contiguous(),
    }
    save_file_canonical(tensors, path, metadata)
    return Path(path)


def compact_bytes(
    A_pred: torch.Tensor, B_pred: torch.Tensor, metadata: dict[str, str], dtype: torch.dtype = torch.bfloat16
) -> bytes:
    from safetensors.torch import save

    return save({"A_pred": A_pred.to(dtype).contiguous(), "B_pred": B_pred.to(dtype).contiguous()}, metadata=metadata)


def _open(path: str | Path) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """Read a LoRA safetensors file: every failure, and any NaN or infinite tensor, is an error naming the file."""
    return read_safetensors(path, "LoRA file", "re-create it with `v2l predict`", BadLoRAFileError)


def load_compact(path: str | Path) -> CompactLoRA:
    tensors, meta = _open(path)
    fmt = meta.get("format")
    if fmt != COMPACT_FORMAT:
        hint = " (it is a standard export: load it with diffusers or `load_standard`)" if fmt == STANDARD_FORMAT else ""
        raise BadLoRAFileError(
            f"LoRA file {path} is not a compact v2l LoRA (format={fmt!r}, expected {COMPACT_FORMAT!r}){hint}"
        )
    missing = {"A_pred", "B_pred"} - tensors.keys()
    if missing:
        raise BadLoRAFileError(f"LoRA file {path} lacks tensors {sorted(missing)}; re-create it with `v2l predict`")
    try:
        r, a, b = int(meta["r"]), int(meta["a"]), int(meta["b"])
        float(meta["scale"])
    except (KeyError, ValueError) as exc:
        raise BadLoRAFileError(
            f"LoRA file {path} has broken metadata ({exc}); re-create it with `v2l predict`"
        ) from None
    A, B = tensors["A_pred"], tensors["B_pred"]
    if A.ndim != 3 or B.ndim != 3 or A.shape[1:] != (r, a) or B.shape[1:] != (b, r) or A.shape[0] != B.shape[0]:
        raise BadLoRAFileError(
            f"LoRA file {path} has tensor shapes A_pred {tuple(A.shape)}, B_pred {tuple(B.shape)} "
            f"that do not match its metadata r={r}, a={a}, b={b}"
        )
    return CompactLoRA(A, B, meta)


def check_compatible(lora: CompactLoRA, model, source: str = "the LoRA") -> None:
    """A compact LoRA only means something with the hypernetwork version and module list that made it."""
    meta = lora.metadata
    if meta.get("backbone") != model.cfg.preset:
        raise IncompatibleLoRAError(
            f"{source} was made for backbone {meta.get('backbone')!r}, this model is "
            f"{model.cfg.preset!r}; use a checkpoint for that backbone"
        )
    if meta.get("modules_sha256") != model.network.modules_sha256():
        raise IncompatibleLoRAError(
            f"{source} was made for another LoRA module list (modules_sha256 "
            f"{meta.get('modules_sha256', '?')[:12]}…, this model "
            f"{model.network.modules_sha256()[:12]}…); predict it again with this model"
        )
    if meta.get("hypernet_sha256") != model.version():
        raise IncompatibleLoRAError(
            f"{source} was made by hypernetwork version {meta.get('hypernet_sha256', '?')[:12]}…, "
            f"this checkpoint is {model.version()[:12]}…; pass the --checkpoint that made it, "
            f"or predict it again from its reference"
        )


# -- standard rank-r exports ---------------------------------------------------------------------
def standard_pairs(
    lora: CompactLoRA, model, scale: float | None = None
) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """Compose the compact LoRA with the model's aux matrices: module -> (down (r, in), up (out, r))."""
    check_compatible(lora, model)
    scale = lora.scale if scale is None else scale
    composed = model.network.compose(lora.A_pred[None], lora.B_pred[None], scale)
    return {name: (down[0], up[0]) for name, (down, up) in zip(model.network.names, composed)}


# ComfyUI's native CogVideoX transformer (comfy/ldm/cogvideo/model.py) names its blocks `blocks.{i}` and their
# Linear layers as below; its LoRA loader (comfy/lora.py, model_lora_keys_unet) accepts `lora_unet_` + a native
# weight's module path with dots as underscores. Diffusers module -> ComfyUI native module, inside a block:
COMFY_COGVIDEOX_BLOCK_NAMES = {
    "attn1.to_q": "q",
    "attn1.to_k": "k",
    "attn1.to_v": "v",
    "attn1.to_out.0": "attn_out",
    "ff.net.0.proj": "ff_proj",
    "ff.net.2": "ff_out",
    "norm1.linear": "norm1.linear",
    "norm2.linear": "norm2.linear",
}


def comfy_module_name(module_name: str) -> str:
    """`transformer_blocks.3.attn1.to_out.0` (diffusers) -> `blocks.3.attn_out` (ComfyUI's native CogVideoX)."""
    prefix, _, rest = module_name.partition(".")
    index, _, inner = rest.partition(".")
    if prefix != "transformer_blocks" or not index.isdigit() or inner not in COMFY_COGVIDEOX_BLOCK_NAMES:
        raise ValueError(
            f"LoRA module {module_name!r} has no ComfyUI CogVideoX name; export it in the diffusers "
            f"format (--format diffusers) instead"
        )
    return f"blocks.{index}.{COMFY_COGVIDEOX_BLOCK_NAMES[inner]}"


def kohya_key(module_name: str) -> str:
    """The kohya/ComfyUI key of a diffusers module: `lora_unet_blocks_3_attn_out`."""
    return "lora_unet_" + comfy_module_name(module_name).replace(".", "_")


def save_standard(
    path: str | Path,
    pairs: dict[str, tuple[torch.Tensor, torch.Tensor]],
    style: str,
    metadata: dict[str, str],
    dtype: torch.dtype = torch.float32,
) -> Path:
    tensors: dict[str, torch.Tensor] = {}
    for name, (down, up) in pairs.items():
        down, up = down.detach().to("cpu", dtype).contiguous(), up.detach().to("cpu", dtype).contiguous()
        if style == "diffusers":
            tensors[f"transformer.{name}.lora_A.weight"] = down
            tensors[f"transformer.{name}.lora_B.weight"] = up
        elif style == "kohya":
            key = kohya_key(name)
            tensors[f"{key}.lora_down.weight"] = down
            tensors[f"{key}.lora_up.weight"] = up
            tensors[f"{key}.alpha"] = torch.tensor(float(down.shape[0]), dtype=dtype)
        else:
            raise ValueError(f"unknown LoRA export style {style!r}; choose diffusers or kohya")
    meta = {**metadata, "format": STANDARD_FORMAT, "style": style, "modules": json.dumps(list(pairs))}
    save_file_canonical(tensors, path, meta)
    return Path(path)


def load_standard(path: str | Path) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """Read a diffusers- or kohya-style rank-r LoRA back into module -> (down, up) with alpha folded in."""
    tensors, meta = _open(path)
    pairs: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}

    def member(key: str) -> torch.Tensor:
        if key not in tensors:
            raise BadLoRAFileError(f"LoRA file {path} lacks tensor {key!r}; re-create it with `v2l predict`")
        return tensors[key]

    if any(k.endswith(".lora_A.weight") for k in tensors):
        for key in tensors:
            if key.endswith(".lora_A.weight"):
                name = key[: -len(".lora_A.weight")].removeprefix("transformer.")
                pairs[name] = (tensors[key], member(f"{key[: -len('.lora_A.weight')]}.lora_B.weight"))
        return pairs
    if any(k.endswith(".lora_down.weight") for k in tensors):
        try:
            names = json.loads(meta["modules"])
            if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
                raise ValueError("not a list of module names")
        except (KeyError, ValueError):
            raise BadLoRAFileError(
                f"kohya LoRA {path} has no module list in its metadata; it was not written by v2l "
                f"and its key names cannot be mapped back unambiguously"
            ) from None
        for name in names:
            try:
                key = kohya_key(name)
            except ValueError as exc:
                raise BadLoRAFileError(f"kohya LoRA {path}: {exc}") from None
            down, up = member(f"{key}.lora_down.weight"), member(f"{key}.lora_up.weight")
            alpha = float(tensors.get(f"{key}.alpha", torch.tensor(float(down.shape[0]))))
            pairs[name] = (down, up * (alpha / down.shape[0]))
        return pairs
    raise BadLoRAFileError(f"{path} holds no LoRA tensors (no lora_A/lora_B or lora_down/lora_up keys)")
