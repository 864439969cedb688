"""LoRA file tools: inspect, scale, mix, for the compact format and standard (diffusers / kohya) exports.

* scale: compact files carry their scale in the metadata (dW = scale * B_aux B_pred A_pred A_aux), so scaling
  rewrites it and leaves the factors untouched; standard exports multiply `up` (exact for powers of two).
* mix: compact LoRAs of one hypernetwork version are mixed in the predicted-code space (a weighted sum of
  A_pred and of B_pred: the hypernetwork's own output space); standard exports are mixed exactly in weight
  space by concatenating ranks, so the result's dW is the weighted sum of the inputs' dW.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import torch

from v2l.errors import BadLoRAFileError, IncompatibleLoRAError, V2LError
from v2l.lora.files import (
    COMPACT_FORMAT,
    STANDARD_FORMAT,
    CompactLoRA,
    _open,
    load_compact,
    load_standard,
    save_compact,
    save_standard,
)
from v2l.model import default_model

# Metadata `save_standard` sets itself.
_STANDARD_OWN = ("format", "style", "modules")


def kind_of(path: str | Path) -> tuple[str, dict[str, str]]:
    """("compact" | "diffusers" | "kohya", metadata) of a LoRA file."""
    tensors, meta = _open(path)
    if meta.get("format") == COMPACT_FORMAT or "A_pred" in tensors:
        return "compact", meta
    if any(k.endswith(".lora_A.weight") for k in tensors):
        return "diffusers", meta
    if any(k.endswith(".lora_down.weight") for k in tensors):
        return "kohya", meta
    raise BadLoRAFileError(
        f"{path} holds no LoRA tensors (no A_pred/B_pred, lora_A/lora_B or lora_down/lora_up "
        f"keys); pass a file written by `v2l predict` or a diffusers/kohya LoRA"
    )


def _standard(path: str | Path, meta: dict[str, str]) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """Module -> (down, up), in the file's recorded module order when it has one."""
    pairs = load_standard(path)
    try:
        order = json.loads(meta["modules"])
    except (KeyError, ValueError):
        return dict(sorted(pairs.items()))
    return {name: pairs[name] for name in order if name in pairs} | pairs


def _delta_norm(down: torch.Tensor, up: torch.Tensor) -> float:
    """||up @ down||_F without forming the (out, in) matrix."""
    down, up = down.double(), up.double()
    return float(((up.T @ up) * (down @ down.T)).sum().clamp_min(0).sqrt())


def inspect_lora(path: str | Path, model=None) -> dict:
    """Format, provenance, module count, rank, a/b, per-module norms and what the file needs to be used.

    `model` (default: the committed tiny model, for tiny files) is what "matches" is checked against."""
    kind, meta = kind_of(path)
    info: dict = {
        "file": str(path),
        "bytes": Path(path).stat().st_size,
        "kind": kind,
        "format": meta.get("format"),
        "metadata": {k: v for k, v in meta.items() if k != "modules"},
    }
    if kind == "compact":
        lora = load_compact(path)
        A, B = lora.A_pred.float(), lora.B_pred.float()
        info.update(
            modules=A.shape[0],
            r=int(meta["r"]),
            a=int(meta["a"]),
            b=int(meta["b"]),
            scale=lora.scale,
            dtype=str(lora.A_pred.dtype).removeprefix("torch."),
            norms=[
                {"module": i, "A_pred": float(A[i].norm()), "B_pred": float(B[i].norm())} for i in range(A.shape[0])
            ],
        )
        needs = {
            "aux": True,
            "hypernet_sha256": meta.get("hypernet_sha256"),
            "modules_sha256": meta.get("modules_sha256"),
            "backbone": meta.get("backbone"),
        }
    else:
        pairs = _standard(path, meta)
        first = next(iter(pairs.values()))
        info.update(
            modules=len(pairs),
            r=int(first[0].shape[0]),
            a=_int(meta.get("a")),
            b=_int(meta.get("b")),
            scale=float(meta["scale"]) if "scale" in meta else None,
            dtype=str(first[0].dtype).removeprefix("torch."),
            norms=[{"module": name, "delta_w": _delta_norm(d, u)} for name, (d, u) in pairs.items()],
        )
        needs = {"aux": False, "hypernet_sha256": meta.get("hypernet_sha256"), "backbone": meta.get("backbone")}
    info["needs"] = needs
    info["matches_committed"] = _matches(needs, model)
    return info


def _int(text):
    return int(text) if text is not None else None


def _matches(needs: dict, model) -> bool | None:
    """Whether the model (the committed one by default) is the hypernetwork version the file names."""
    if needs.get("hypernet_sha256") is None:
        return None
    if model is None:
        if needs.get("backbone") != "tiny":
            return None

        model = default_model()
    same = needs["hypernet_sha256"] == model.version() and needs.get("backbone") == model.cfg.preset
    if needs.get("modules_sha256"):
        same = same and needs["modules_sha256"] == model.network.modules_sha256()
    return same


def scale_lora(path: str | Path, by: float, out: str | Path) -> Path:
    """The same LoRA with its effect (dW) multiplied by `by`, in the same format."""
    kind, meta = kind_of(path)
    if kind == "compact":
        lora = load_compact(path)
        return save_compact(out, lora.A_pred, lora.B_pred, {**meta, "scale": repr(lora.scale * by)}, lora.A_pred.dtype)
    pairs = _standard(path, meta)
    dtype = next(iter(pairs.values()))[0].dtype
    scaled = {name: (down, up * by) for name, (down, up) in pairs.items()}
    extra = {k: v for k, v in meta.items() if k not in _STANDARD_OWN}
    if "scale" in extra:
        extra["scale"] = repr(float(extra["scale"]) * by)
    return save_standard(out, scaled, kind, extra, dtype)


def _same(values: list, what: str, paths: list) -> None:
    if len(set(values)) > 1:
        detail = ", ".join(f"{Path(p).name}: {str(v)[:12]}" for p, v in zip(paths, values))
        raise IncompatibleLoRAError(
            f"cannot mix LoRAs of different {what} ({detail}); mix files made by one "
            f"hypernetwork for one backbone (re-predict them with the same --checkpoint)"
        )


def mix_loras(paths: list[str | Path], weights: list[float], out: str | Path) -> Path:
    """A weighted mix of LoRA files of one kind (see the module docstring)."""
    if len(paths) < 2:
        raise V2LError("mix needs at least two LoRA files")
    if len(weights) != len(paths):
        raise V2LError(f"--weights has {len(weights)} values for {len(paths)} files; give one weight per file")
    kinds = [kind_of(p) for p in paths]
    names = {k for k, _ in kinds}
    if len(names) > 1:
        raise IncompatibleLoRAError(
            f"cannot mix compact and standard LoRAs ({', '.join(sorted(names))}); export the "
            f"compact ones with `v2l predict --format diffusers` first"
        )
    metas = [m for _, m in kinds]
    _same([m.get("backbone") for m in metas], "backbones", paths)
    _same([m.get("hypernet_sha256") for m in metas], "hypernetwork versions", paths)
    _same([m.get("modules_sha256") for m in metas], "module lists", paths)
    provenance = json.dumps(
        [{"reference_sha256": m.get("reference_sha256"), "weight": w} for m, w in zip(metas, weights)]
    )
    mixed_id = "mix-" + hashlib.sha256(provenance.encode()).hexdigest()[:16]
    if names == {"compact"}:
        loras = [load_compact(p) for p in paths]
        _same([(lo.A_pred.shape, lo.B_pred.shape) for lo in loras], "shapes (r, a, b, modules)", paths)
        # Scales are folded into B_pred relative to the first file's, so each input keeps its own strength.
        s0 = loras[0].scale
        A = sum(w * lo.A_pred.float() for w, lo in zip(weights, loras))
        B = sum(w * (lo.scale / s0) * lo.B_pred.float() for w, lo in zip(weights, loras))
        meta = {**metas[0], "reference_sha256": mixed_id, "mix": provenance}
        return save_compact(out, A, B, meta, loras[0].A_pred.dtype)
    all_pairs = [_standard(p, m) for p, m in zip(paths, metas)]
    modules = list(all_pairs[0])
    for p, pairs in zip(paths, all_pairs):
        if set(pairs) != set(modules):
            raise IncompatibleLoRAError(
                f"cannot mix {paths[0]} and {p}: they adapt different modules; mix LoRAs "
                f"of one backbone and module list"
            )
    mixed = {
        name: (
            torch.cat([pairs[name][0].float() for pairs in all_pairs], dim=0),
            torch.cat([w * pairs[name][1].float() for w, pairs in zip(weights, all_pairs)], dim=1),
        )
        for name in modules
    }
    extra = {k: v for k, v in metas[0].items() if k not in _STANDARD_OWN}
    extra.update(reference_sha256=mixed_id, mix=provenance)
    return save_standard(out, mixed, kinds[0][0], extra, torch.float32)


def parse_weights(text: str) -> list[float]:
    try:
        weights = [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise V2LError(f"--weights {text[:40]!r} must be comma-separated numbers, e.g. 0.5,0.5") from None
    if not all(math.isfinite(w) for w in weights):
        raise V2LError(f"--weights {text[:40]!r} holds a value that is not a finite number; use e.g. 0.5,0.5")
    return weights


__all__ = ["inspect_lora", "kind_of", "mix_loras", "parse_weights", "scale_lora", "CompactLoRA", "STANDARD_FORMAT"]
