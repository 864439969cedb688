"""The Video2LoRA hypernetwork (DESIGN §2): reference latents in, one (a+b)*r vector per wrapped module out.

Module tokens start at zero and are refined K times by a shared pre-norm transformer decoder that
self-attends over module tokens and cross-attends to the reference's VAE latent tokens.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from v2l.config import HypernetConfig


def paper_heads(width: int) -> int:
    """The official rule: the largest power of two dividing `width` whose head dim stays above 64 (at least 1)."""
    heads = 1
    while width % heads == 0 and width // heads > 64:
        heads *= 2
    return max(1, heads // 2)


def sinusoid_table(n: int, dim: int) -> torch.Tensor:
    position = torch.arange(n, dtype=torch.float64)[:, None]
    i = torch.arange(dim, dtype=torch.float64)[None, :]
    angle = position / torch.pow(10000.0, 2 * (i // 2) / dim)
    table = torch.where(i % 2 == 0, torch.sin(angle), torch.cos(angle))
    return table.float()


def sinusoid_3d(t: int, h: int, w: int, dim: int) -> torch.Tensor:
    """Fixed (t*h*w, dim) position code: a third of the channels each for time, row and column."""
    parts = [dim // 3, dim // 3, dim - 2 * (dim // 3)]
    tt, hh, ww = torch.meshgrid(torch.arange(t), torch.arange(h), torch.arange(w), indexing="ij")
    codes = [sinusoid_table(n, d)[idx.flatten()] for n, d, idx in zip((t, h, w), parts, (tt, hh, ww))]
    return torch.cat(codes, dim=-1)


def motion_features(latents: torch.Tensor, radius: int) -> torch.Tensor:
    """(B, C, T, h, w) latents -> (B, T*h*w, (2r+1)^2): each position's cosine similarity with the next latent
    frame at every shift within `radius` cells, a local cost volume as optical-flow networks build. Attention
    pools token features linearly, so where content moved (pans, zooms, rotations) is not a feature of the
    latents it can read; similarities across time are. The last frame repeats the one before (zeros for T=1)."""
    b, _, t, h, w = latents.shape
    k = (2 * radius + 1) ** 2
    if t < 2:
        return latents.new_zeros(b, t * h * w, k)
    x = F.normalize(latents.float(), dim=1)
    now, nxt = x[:, :, :-1], F.pad(x[:, :, 1:], (radius,) * 4)
    shifts = [
        (now * nxt[..., radius + dy : radius + dy + h, radius + dx : radius + dx + w]).sum(1)
        for dy in range(-radius, radius + 1)
        for dx in range(-radius, radius + 1)
    ]
    volume = torch.stack(shifts, dim=-1)  # (B, T-1, h, w, k)
    volume = torch.cat([volume, volume[:, -1:]], dim=1)
    return volume.flatten(1, 3).to(latents.dtype)


class Attention(nn.Module):
    def __init__(self, dim: int, heads: int, context_dim: int | None = None):
        super().__init__()
        if dim % heads:
            raise ValueError(f"hypernetwork width {dim} is not divisible by heads={heads}; pick heads dividing it")
        context_dim = context_dim or dim
        self.heads = heads
        self.q = nn.Linear(dim, dim, bias=False)
        self.k = nn.Linear(context_dim, dim, bias=False)
        self.v = nn.Linear(context_dim, dim, bias=False)
        self.out = nn.Linear(dim, dim)

    def _heads(self, t: torch.Tensor) -> torch.Tensor:
        b, n, d = t.shape
        return t.view(b, n, self.heads, d // self.heads).transpose(1, 2)

    def project_kv(self, context: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self._heads(self.k(context)), self._heads(self.v(context))

    def forward(self, x: torch.Tensor, kv: tuple[torch.Tensor, torch.Tensor] | None = None) -> torch.Tensor:
        """Self-attention, or cross-attention to precomputed keys/values of the context."""
        k, v = self.project_kv(x) if kv is None else kv
        y = F.scaled_dot_product_attention(self._heads(self.q(x)), k, v)
        return self.out(y.transpose(1, 2).reshape(x.shape))


class DecoderBlock(nn.Module):
    """Pre-norm: self-attention over module tokens, cross-attention to video tokens, GELU feed-forward."""

    def __init__(self, dim: int, heads: int, ff_mult: int):
        super().__init__()
        self.norm1, self.norm2, self.norm3 = nn.LayerNorm(dim), nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.self_attn = Attention(dim, heads)
        self.cross_attn = Attention(dim, heads)
        self.ff = nn.Sequential(nn.Linear(dim, dim * ff_mult), nn.GELU(), nn.Linear(dim * ff_mult, dim))

    def forward(self, h: torch.Tensor, context_kv: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        h = h + self.self_attn(self.norm1(h))
        h = h + self.cross_attn(self.norm2(h), context_kv)
        return h + self.ff(self.norm3(h))


class Hypernetwork(nn.Module):
    """Reference latents (B, C, T, h, w) -> predicted LightLoRA factors (B, num_modules, (a+b)*r)."""

    def __init__(self, latent_channels: int, num_modules: int, numbers_per_module: int, cfg: HypernetConfig):
        super().__init__()
        self.cfg = cfg
        self.num_modules = num_modules
        self.numbers_per_module = numbers_per_module
        width = cfg.width or numbers_per_module
        self.width = width
        heads = cfg.heads or paper_heads(width)
        self.feature_proj = nn.Linear(latent_channels, width, bias=False)
        r = cfg.reference_motion
        self.motion_proj = nn.Linear((2 * r + 1) ** 2, width, bias=False) if r else None
        self.register_buffer("module_pos_table", sinusoid_table(num_modules, width), persistent=False)
        self.pos_emb_proj = nn.Linear(width, width, bias=False)
        self.blocks = nn.ModuleList(DecoderBlock(width, heads, cfg.ff_mult) for _ in range(cfg.blocks))
        self.delta_proj = nn.Sequential(nn.LayerNorm(width), nn.Linear(width, width, bias=False))
        # Only when the decoder width differs from the LoRA vector length (never with paper settings).
        self.out_proj = None if width == numbers_per_module else nn.Linear(width, numbers_per_module, bias=False)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
        nn.init.normal_(self.delta_proj[1].weight, std=self.cfg.delta_init_std)

    def reference_tokens(self, latents: torch.Tensor) -> torch.Tensor:
        b, c, t, h, w = latents.shape
        tokens = self.feature_proj(latents.flatten(2).transpose(1, 2))
        if self.motion_proj is not None:
            tokens = tokens + self.motion_proj(motion_features(latents, self.cfg.reference_motion).to(tokens))
        if self.cfg.reference_pos_encoding:
            tokens = tokens + sinusoid_3d(t, h, w, self.width).to(tokens)
        return tokens

    def forward(self, latents: torch.Tensor) -> torch.Tensor:
        context = self.reference_tokens(latents)
        # The video tokens are the same in every refinement pass: project their keys/values once per block.
        context_kv = [block.cross_attn.project_kv(context) for block in self.blocks]
        weights = context.new_zeros(latents.shape[0], self.num_modules, self.width)
        pos = self.pos_emb_proj(self.module_pos_table.to(context))
        for _ in range(self.cfg.iterations):
            h = weights + pos
            for block, kv in zip(self.blocks, context_kv):
                h = block(h, kv)
            weights = weights + self.delta_proj(h)
        return weights if self.out_proj is None else self.out_proj(weights)
