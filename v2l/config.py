"""Method configuration: LightLoRA shape and hypernetwork sizes (DESIGN §2). Paper values are the defaults."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from v2l.errors import V2LError
from v2l.shipped import resolve_config

PAPER_TARGET_MODULES = ("attn1.to_q", "attn1.to_k", "attn1.to_v", "attn1.to_out.0")


class LoRAConfig(BaseModel):
    """LightLoRA: dW = scale * B_aux (out x b) @ B_pred (b x r) @ A_pred (r x a) @ A_aux (a x in)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    r: int = Field(1, ge=1)
    a: int = Field(100, ge=1, description="rows of A_aux (down auxiliary width)")
    b: int = Field(50, ge=1, description="columns of B_aux (up auxiliary width)")
    scale: float = 1.0
    # Suffixes of module names inside each transformer block to wrap.
    target_modules: tuple[str, ...] = PAPER_TARGET_MODULES

    @property
    def numbers_per_module(self) -> int:
        return (self.a + self.b) * self.r


class HypernetConfig(BaseModel):
    """Hypernetwork sizes. The token width D is (a + b) * r unless `width` overrides it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    width: int | None = Field(None, ge=1, description="decoder width D; None means (a+b)*r as in the paper")
    blocks: int = Field(4, ge=1)
    heads: int | None = Field(None, ge=1, description="None picks the paper's rule (head dim just above 64)")
    iterations: int = Field(4, ge=1, description="K refinement passes with shared weights")
    ff_mult: int = Field(4, ge=1)
    delta_init_std: float = 1e-3
    # The paper feeds reference tokens as a set; trials showed motion direction needs positions.
    reference_pos_encoding: bool = False
    # 0: tokens are the latents alone (paper). r > 0: each token also carries a local cost volume, its latent's
    # cosine similarity with the next latent frame's at every shift up to r cells: how the content moved there.
    reference_motion: int = Field(0, ge=0, le=4)


class V2LConfig(BaseModel):
    """Everything that defines a Video2LoRA model on top of a backbone preset."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    preset: str = "tiny"
    lora: LoRAConfig = LoRAConfig()
    hypernet: HypernetConfig = HypernetConfig()


# --- The one YAML loader every job's config goes through (training, evaluation, corpus, library, pretraining).

BASE_KEY = "base"  # `base: other.yaml` (relative to the file, or a shipped config's name): merged under this file


def merge(base: dict, over: dict) -> dict:
    """`over` on top of `base`; nested mappings merge key by key, anything else is replaced."""
    out = dict(base)
    for k, v in over.items():
        out[k] = merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def read_mapping(path, label: str = "config", example: str = "pipelines/configs/", _seen: tuple = ()) -> dict:
    """A YAML mapping with its `base:` chain merged under it; a file that is not one is a one-line V2LError."""
    from pathlib import Path

    import yaml

    path = resolve_config(path)
    if not Path(path).is_file():
        raise V2LError(f"{label} {path} is not a file; see {example} for an example")
    if Path(path).resolve() in _seen:
        raise V2LError(f"{label} {path}: its base chain loops back to itself")
    try:
        data = yaml.safe_load(Path(path).read_text("utf-8")) or {}
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        raise V2LError(f"{label} {path} is not YAML text ({type(exc).__name__}); see {example}") from None
    if not isinstance(data, dict):
        raise V2LError(f"{label} {path} must be a mapping of config fields; see {example}")
    base = data.pop(BASE_KEY, None)
    if base is None:
        return data
    near = Path(path).parent / base
    parent = read_mapping(near if near.is_file() else base, label, example, (*_seen, Path(path).resolve()))
    return merge(parent, data)


def load_config_file(model, path=None, label: str = "config", example: str = "pipelines/configs/", /, **overrides):
    """`model` validated from the YAML file at `path` (None: the model's defaults), `base:` merged first, then
    the overrides that are not None: a mapping merges into the file's mapping at its key (`--set optim.lr=...`),
    anything else replaces its whole key, as a command-line option does. `model` is a pydantic model or anything
    with `model_validate`."""
    from pydantic import ValidationError

    data = read_mapping(path, label, example) if path is not None else {}
    data = merge(data, {k: v for k, v in overrides.items() if v is not None})
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise V2LError(f"{label} {path}: {where}: {err['msg']}") from None
