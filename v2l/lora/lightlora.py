"""LightLoRA injection: frozen nn.Linear layers get dW = scale * B_aux @ B_pred @ A_pred @ A_aux.

A_aux and B_aux are trainable and shared across references. A_pred and B_pred come per reference from
the hypernetwork and are composed once per reference into down (r x in) and up (out x r), so each
token pays only r*(in+out) extra multiply-adds, and each sample in a batch carries its own LoRA.

At inference a LoRA that every sample shares (one reference: the caller says so with `shared=True`, and CFG's
doubled batch reuses it) is merged into one weight per module, `W + up @ down`, once per reference: the forward
is then the plain Linear's, whatever the batch. It costs one extra copy of each wrapped weight while it is set.
"""

from __future__ import annotations

import contextlib
import hashlib
from typing import Iterator

import torch
from torch import nn

from v2l.config import LoRAConfig

# Merge per-sample weights only while each module's merged batch stays this small (elements).
MERGE_LIMIT = 1 << 22


class LightLoRALinear(nn.Module):
    """A frozen Linear plus a per-sample low-rank delta (None means: behave exactly like the base)."""

    def __init__(self, base: nn.Linear, cfg: LoRAConfig):
        super().__init__()
        self.base = base
        self.in_features, self.out_features = base.in_features, base.out_features
        device = base.weight.device
        self.A_aux = nn.Parameter(torch.empty(cfg.a, self.in_features, device=device))
        self.B_aux = nn.Parameter(torch.empty(self.out_features, cfg.b, device=device))
        if device.type != "meta":
            nn.init.orthogonal_(self.A_aux)
            nn.init.orthogonal_(self.B_aux)
        self.down: torch.Tensor | None = None  # (B, r, in)
        self.up: torch.Tensor | None = None  # (B, out, r), scale folded in
        self.merged: torch.Tensor | None = None  # (B, in, out) = (W + up @ down)^T, inference only
        self.shared_weight: torch.Tensor | None = None  # (out, in) = W + up @ down for every sample, inference only

    def set(self, down: torch.Tensor, up: torch.Tensor, merge: bool, shared: bool = False) -> None:
        """`shared`: down/up hold one LoRA (batch 1) that every sample of every forward uses."""
        self.down, self.up, self.merged, self.shared_weight = down, up, None, None
        if merge and shared:
            w = self.base.weight
            self.shared_weight = torch.addmm(w.float(), up[0], down[0]).to(w.dtype)
        elif merge:
            w = self.base.weight.float()
            self.merged = torch.baddbmm(w.expand(down.shape[0], -1, -1), up, down).transpose(1, 2).contiguous()

    def clear(self) -> None:
        self.down = self.up = self.merged = self.shared_weight = None

    @staticmethod
    def _tile(t: torch.Tensor, batch: int) -> torch.Tensor:
        """CFG doubles the batch as [uncond, cond]: every copy of the batch uses the same per-sample LoRAs."""
        if batch == t.shape[0]:
            return t
        if batch % t.shape[0]:
            raise ValueError(f"input batch {batch} is not a multiple of the LoRA batch {t.shape[0]}")
        return t.repeat(batch // t.shape[0], *([1] * (t.ndim - 1)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.shared_weight is not None:
            return nn.functional.linear(x, self.shared_weight, self.base.bias)
        batch = x.shape[0]
        if self.merged is not None:
            w = self._tile(self.merged.to(x.dtype), batch)
            x3 = x.reshape(batch, -1, self.in_features)
            out = torch.bmm(x3, w) if self.base.bias is None else torch.baddbmm(self.base.bias.to(x.dtype), x3, w)
            return out.view(*x.shape[:-1], self.out_features)
        y = self.base(x)
        if self.down is None:
            return y
        down, up = self._tile(self.down.to(x.dtype), batch), self._tile(self.up.to(x.dtype), batch)
        hidden = torch.bmm(x.reshape(batch, -1, self.in_features), down.transpose(1, 2))  # (B, L, r)
        y3 = y.reshape(batch, -1, self.out_features)
        if hidden.shape[-1] == 1:
            # Rank 1: a broadcast multiply-add is ~6x faster than a K=1 batched matmul on CPU.
            out = torch.addcmul(y3, hidden, up.transpose(1, 2))
        else:
            out = torch.baddbmm(y3, hidden, up.transpose(1, 2))
        return out.view(y.shape)


def _get_parent(root: nn.Module, name: str) -> tuple[nn.Module, str]:
    parent_name, _, child = name.rpartition(".")
    return (root.get_submodule(parent_name) if parent_name else root), child


class LightLoRANetwork:
    """All LightLoRA modules of one transformer, in a fixed order (the hypernetwork's output order).

    A plain handle, not an nn.Module: the aux parameters are registered once, inside the transformer.
    """

    def __init__(self, transformer: nn.Module, cfg: LoRAConfig):
        self.cfg = cfg
        self.names: list[str] = target_module_names(transformer, cfg)
        if not self.names:
            raise ValueError(f"no module of the transformer matches target_modules={cfg.target_modules}")
        wrapped = []
        for name in self.names:
            parent, child = _get_parent(transformer, name)
            base = getattr(parent, child)
            module = base if isinstance(base, LightLoRALinear) else LightLoRALinear(base, cfg)
            setattr(parent, child, module)
            wrapped.append(module)
        self.modules_list: list[LightLoRALinear] = wrapped

    def __len__(self) -> int:
        return len(self.names)

    def aux_parameters(self) -> list[nn.Parameter]:
        return [p for m in self.modules_list for p in (m.A_aux, m.B_aux)]

    def aux_state_dict(self) -> dict[str, torch.Tensor]:
        return {
            f"{n}.{k}": getattr(m, k).detach()
            for n, m in zip(self.names, self.modules_list)
            for k in ("A_aux", "B_aux")
        }

    def load_aux_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        for n, m in zip(self.names, self.modules_list):
            for k in ("A_aux", "B_aux"):
                getattr(m, k).data.copy_(state[f"{n}.{k}"])

    def modules_sha256(self) -> str:
        """Identifies the wrapped module list and LoRA shape; a LoRA from another list cannot be applied."""
        text = "\n".join(f"{n}:{m.in_features}x{m.out_features}" for n, m in zip(self.names, self.modules_list))
        text += f"\nr={self.cfg.r};a={self.cfg.a};b={self.cfg.b}"
        return hashlib.sha256(text.encode()).hexdigest()

    def split(self, pred: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, N, (a+b)*r) -> A_pred (B, N, r, a), B_pred (B, N, b, r)."""
        r, a, b = self.cfg.r, self.cfg.a, self.cfg.b
        if pred.shape[-2:] != (len(self), (a + b) * r):
            raise ValueError(f"predicted LoRA shape {tuple(pred.shape)} does not match ({len(self)}, {(a + b) * r})")
        return pred[..., : a * r].unflatten(-1, (r, a)), pred[..., a * r :].unflatten(-1, (b, r))

    def compose(self, A_pred: torch.Tensor, B_pred: torch.Tensor, scale: float | None = None):
        """Per module: down = A_pred @ A_aux (B, r, in), up = scale * B_aux @ B_pred (B, out, r)."""
        scale = self.cfg.scale if scale is None else scale
        A_pred, B_pred = A_pred.float(), B_pred.float()
        out = []
        for i, m in enumerate(self.modules_list):
            down = A_pred[:, i] @ m.A_aux.float()
            up = (m.B_aux.float() @ B_pred[:, i]) * scale
            out.append((down, up))
        return out

    def set(
        self,
        A_pred: torch.Tensor,
        B_pred: torch.Tensor,
        scale: float | None = None,
        merge: bool | None = None,
        shared: bool = False,
    ) -> None:
        """merge=None merges when no gradient is needed (inference): every layer when the LoRA is `shared`
        (A_pred/B_pred hold one reference's LoRA, batch 1, used by every sample of the forwards), else only
        small layers (per-sample merged weights); otherwise it keeps factors."""
        if shared and A_pred.shape[0] != 1:
            raise ValueError(
                f"a shared LoRA is one reference's (batch 1), got a batch of {A_pred.shape[0]}; "
                "pass A_pred[:1], B_pred[:1]"
            )
        no_grad = not (
            torch.is_grad_enabled()
            and (A_pred.requires_grad or B_pred.requires_grad or any(p.requires_grad for p in self.aux_parameters()))
        )
        for m, (down, up) in zip(self.modules_list, self.compose(A_pred, B_pred, scale)):
            small = down.shape[0] * m.in_features * m.out_features <= MERGE_LIMIT
            m.set(down, up, merge if merge is not None else (no_grad and (shared or small)), shared)

    def clear(self) -> None:
        for m in self.modules_list:
            m.clear()

    def snapshot(self) -> list[tuple[torch.Tensor | None, ...]]:
        return [(m.down, m.up, m.merged, m.shared_weight) for m in self.modules_list]

    @contextlib.contextmanager
    def restored(self, state: list[tuple[torch.Tensor | None, ...]]) -> Iterator[None]:
        """Within the block, the modules hold `state` (a `snapshot()`), then what they held before."""
        before = self.snapshot()
        self._load(state)
        try:
            yield
        finally:
            self._load(before)

    def _load(self, state: list[tuple[torch.Tensor | None, ...]]) -> None:
        for m, (down, up, merged, shared_weight) in zip(self.modules_list, state):
            m.down, m.up, m.merged, m.shared_weight = down, up, merged, shared_weight

    def enable_gradient_checkpointing(self, transformer: nn.Module) -> None:
        """Activation checkpointing that recomputes each block with the LoRA its forward used.

        The recompute runs during backward, after `applied()` has cleared the LoRA; with diffusers' default
        checkpoint function it would run the bare block and fail (or, worse, differ). This one snapshots the
        LoRA at forward time and restores it for the recompute.
        """
        from torch.utils.checkpoint import checkpoint

        def checkpointed(block: nn.Module, *args):
            state = self.snapshot()
            return checkpoint(
                block.__call__,
                *args,
                use_reentrant=False,
                context_fn=lambda: (contextlib.nullcontext(), self.restored(state)),
            )

        transformer.enable_gradient_checkpointing(checkpointed)

    @contextlib.contextmanager
    def applied(
        self,
        A_pred: torch.Tensor,
        B_pred: torch.Tensor,
        scale: float | None = None,
        merge: bool | None = None,
        shared: bool = False,
    ) -> Iterator[None]:
        """Within the block, sample i of every forward uses LoRA i (batch-tiled for CFG); `shared`: see `set`."""
        self.set(A_pred, B_pred, scale, merge, shared)
        try:
            yield
        finally:
            self.clear()


def target_module_names(transformer: nn.Module, cfg: LoRAConfig) -> list[str]:
    """Names of `transformer_blocks.{i}.<target>` Linear layers, in block then target order."""
    names = []
    blocks = transformer.get_submodule("transformer_blocks")
    for i in range(len(blocks)):
        for target in cfg.target_modules:
            name = f"transformer_blocks.{i}.{target}"
            try:
                module = transformer.get_submodule(name)
            except AttributeError:
                continue
            if isinstance(module, (nn.Linear, LightLoRALinear)):
                names.append(name)
    return names
