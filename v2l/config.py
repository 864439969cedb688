"""Method configuration: LightLoRA shape and hypernetwork sizes (DESIGN §2). Paper values are the defaults."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

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


class V2LConfig(BaseModel):
    """Everything that defines a Video2LoRA model on top of a backbone preset."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    preset: str = "tiny"
    lora: LoRAConfig = LoRAConfig()
    hypernet: HypernetConfig = HypernetConfig()
