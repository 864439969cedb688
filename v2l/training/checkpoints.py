"""Training checkpoints: `step-XXXXXXXX/` folders (weights as safetensors, optimizer, scheduler, train state),
written to a hidden temp folder and renamed, a `latest` pointer file, and only the last K kept.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from v2l.atomic import write_text_atomic

LATEST = "latest"


def save_checkpoint(root: str | Path, step: int, model, optimizer, scheduler, state: dict, keep_last: int,
                    config_json: str, extra: dict[str, torch.Tensor] | None = None) -> Path:
    """`extra` tensors (e.g. the staged recipe's codes) are stored beside the model's, under their own names."""
    root = Path(root)
    final = root / f"step-{step:08d}"
    tmp = root / f".tmp-step-{step:08d}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    tensors = {**model.trainable_state_dict(), **(extra or {})}
    save_file({k: v.detach().float().contiguous().cpu() for k, v in tensors.items()},
              str(tmp / "weights.safetensors"), metadata={"format": "v2l-checkpoint/1", "version": model.version()})
    (tmp / "config.json").write_text(model.cfg.model_dump_json(indent=2))
    (tmp / "train_config.json").write_text(config_json)
    torch.save(optimizer.state_dict(), tmp / "optimizer.pt")
    torch.save(scheduler.state_dict(), tmp / "scheduler.pt")
    (tmp / "state.json").write_text(json.dumps({**state, "step": step}))
    shutil.rmtree(final, ignore_errors=True)
    tmp.rename(final)
    write_text_atomic(root / LATEST, final.name)
    for old in sorted(root.glob("step-*"))[:-keep_last]:
        shutil.rmtree(old, ignore_errors=True)
    return final


def latest_checkpoint(root: str | Path) -> Path | None:
    root = Path(root)
    pointer = root / LATEST
    if pointer.is_file():
        path = root / pointer.read_text().strip()
        if (path / "state.json").is_file():
            return path
    done = sorted(p for p in root.glob("step-*") if (p / "state.json").is_file())
    return done[-1] if done else None


def load_checkpoint(path: str | Path, model, optimizer, scheduler, extra: torch.nn.Module | None = None,
                    extra_prefix: str = "staged.") -> dict:
    """Restore weights, optimizer and scheduler in place; returns the train state (step, samples, ...)."""
    path = Path(path)
    tensors = load_file(str(path / "weights.safetensors"))
    model.load_trainable_state_dict(tensors)
    if extra is not None:
        extra.load_state_dict({k[len(extra_prefix):]: v for k, v in tensors.items() if k.startswith(extra_prefix)})
    optimizer.load_state_dict(torch.load(path / "optimizer.pt", weights_only=True))
    scheduler.load_state_dict(torch.load(path / "scheduler.pt", weights_only=True))
    return json.loads((path / "state.json").read_text())


def check_same_backbone(path: str | Path, fingerprint: dict) -> None:
    """Refuse to resume a checkpoint trained on other backbone weights: its LoRAs were fitted to those."""
    from v2l.errors import V2LError

    path = Path(path)
    recorded = json.loads((path / "state.json").read_text()).get("backbone")
    # Checkpoints from before the fingerprint, or of an uncarded backbone (a local 5B folder), carry none.
    if not recorded or recorded == fingerprint:
        return
    from v2l.pretrain.lineage import differing

    changed = differing(recorded, fingerprint)
    raise V2LError(f"checkpoint {path} was trained on another backbone ({', '.join(changed)} differ from the "
                   f"committed weights); start a fresh run: move {path.parent} aside or set another run_dir")
