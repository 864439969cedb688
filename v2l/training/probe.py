"""Linear probe of what the hypernetwork reads, to run before a long training run.

If a linear classifier on the reference features cannot tell the semantics apart on held-out content, no
amount of hypernetwork training will: the trials lost hours to exactly that. Two views are probed:
- `latents`: the flattened VAE latents, i.e. the reference tokens with their positions (the hypernetwork's
  token projection is linear, so this is what attention over position-encoded tokens can reach);
- `pooled`: the tokens averaged over positions, what a position-blind reader sees (motion direction is lost).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from v2l.training.pairs import pair_source
from v2l.training.trainer import build_model
from v2l.video.pixels import to_float


def _features(model, clips, batch: int = 32) -> tuple[torch.Tensor, torch.Tensor]:
    flat, pooled = [], []
    with torch.no_grad():
        for i in range(0, len(clips), batch):
            frames = to_float(torch.stack([c.frames for c in clips[i : i + batch]]))
            latents = model.backbone.encode_video(frames).float()
            flat.append(latents.flatten(1))
            pooled.append(model.hypernet.reference_tokens(latents).mean(1))
    return torch.cat(flat), torch.cat(pooled)


def _fit_linear(x_train, y_train, x_test, y_test, classes: int, steps: int = 300, weight_decay: float = 1e-3) -> dict:
    mean, std = x_train.mean(0), x_train.std(0) + 1e-6
    x_train, x_test = (x_train - mean) / std, (x_test - mean) / std
    layer = torch.nn.Linear(x_train.shape[1], classes)
    opt = torch.optim.LBFGS(layer.parameters(), max_iter=steps, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = F.cross_entropy(layer(x_train), y_train) + weight_decay * layer.weight.square().sum()
        loss.backward()
        return loss

    opt.step(closure)
    with torch.no_grad():
        return {
            "train_accuracy": float((layer(x_train).argmax(-1) == y_train).float().mean()),
            "heldout_content_accuracy": float((layer(x_test).argmax(-1) == y_test).float().mean()),
        }


def probe_reference_features(cfg) -> dict:
    """Probe accuracies on the config's training clips (fit) and its val split (held-out content)."""

    torch.manual_seed(cfg.seed)
    model = build_model(cfg, torch.device("cpu"))
    train, val = pair_source(cfg, cfg.data.split, 0, 1), pair_source(cfg, cfg.data.val_split, 0, 1)
    names = sorted({c.semantic for c in train.targets})
    y_train = torch.tensor([names.index(c.semantic) for c in train.targets])
    val_clips = [c for c in val.targets if c.semantic in names]
    y_val = torch.tensor([names.index(c.semantic) for c in val_clips])
    (flat_tr, pool_tr), (flat_va, pool_va) = _features(model, train.targets), _features(model, val_clips)
    return {
        "semantics": len(names),
        "train_clips": len(y_train),
        "heldout_clips": len(y_val),
        "chance": 1 / len(names),
        "latents": _fit_linear(flat_tr, y_train, flat_va, y_val, len(names)),
        "pooled": _fit_linear(pool_tr, y_train, pool_va, y_val, len(names)),
    }
