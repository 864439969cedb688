"""The one save/load convention of the project's own models: a folder with `config.json` and `model.safetensors`.

Both files are written atomically; loading checks both are there and names the folder and the fix when they are
not. Hypernetwork checkpoints written before this convention hold `weights.safetensors`: `weights_path` reads it.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors.torch import save_file

from v2l.atomic import atomic_path, write_text_atomic
from v2l.errors import V2LError
from v2l.tensor_files import read_safetensors

MODEL_FILE = "model.safetensors"
CONFIG_FILE = "config.json"
LEGACY_WEIGHTS_FILE = "weights.safetensors"  # hypernetwork checkpoints written before MODEL_FILE


def weights_path(directory: str | Path) -> Path:
    """The folder's weight file: MODEL_FILE, or the legacy name for checkpoints written before it."""
    directory = Path(directory)
    path = directory / MODEL_FILE
    return (
        path if path.is_file() or not (directory / LEGACY_WEIGHTS_FILE).is_file() else directory / LEGACY_WEIGHTS_FILE
    )


def save_folder(
    directory: str | Path, tensors: dict[str, torch.Tensor], config: dict | str, metadata: dict[str, str] | None = None
) -> Path:
    """Write `tensors` (detached, contiguous, on the CPU) and `config` (a dict, or JSON text) into `directory`."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    with atomic_path(directory / MODEL_FILE) as tmp:
        save_file({k: v.detach().contiguous().cpu() for k, v in tensors.items()}, str(tmp), metadata=metadata)
    write_text_atomic(directory / CONFIG_FILE, config if isinstance(config, str) else json.dumps(config))
    return directory


def check_folder(directory: str | Path, what: str, fix: str) -> tuple[Path, Path]:
    """(config path, weights path) of a saved model folder; a V2LError naming both files and `fix` if one is missing."""
    directory = Path(directory)
    cfg_path, weights = directory / CONFIG_FILE, weights_path(directory)
    for path in (weights, cfg_path):
        if not path.is_file():
            raise V2LError(
                f"{directory} is not a {what} folder: {path} is missing (it needs {CONFIG_FILE} and "
                f"{MODEL_FILE}); {fix}"
            )
    return cfg_path, weights


def read_config(cfg_path: Path, fix: str) -> dict:
    try:
        return json.loads(cfg_path.read_text())
    except (ValueError, UnicodeDecodeError) as exc:
        raise V2LError(
            f"config {cfg_path} cannot be read ({type(exc).__name__}: {str(exc).splitlines()[0]}); {fix}"
        ) from None


class SavedModel:
    """Mixin for an `nn.Module` saved as config + tensors. Subclasses set `WHAT` (named in errors) and `FIX` (how
    to get one) and define `config()`; `from_config`, `weights` and `load_weights` default to `cls(**config)` and
    the module's whole `state_dict`."""

    WHAT = "model"
    FIX = "pass a folder written by its `save`"

    def config(self) -> dict:
        raise NotImplementedError

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)

    def weights(self) -> dict[str, torch.Tensor]:
        return self.state_dict()

    def load_weights(self, state: dict[str, torch.Tensor]) -> None:
        self.load_state_dict(state)

    def save(self, directory: str | Path) -> Path:
        return save_folder(directory, self.weights(), self.config())

    @classmethod
    def load(cls, directory: str | Path):
        cfg_path, weights = check_folder(directory, cls.WHAT, cls.FIX)
        model = cls.from_config(read_config(cfg_path, cls.FIX))
        state, _ = read_safetensors(weights, f"{cls.WHAT} weights", cls.FIX)
        try:
            model.load_weights(state)
        except (RuntimeError, KeyError) as exc:  # missing, extra or mis-shaped tensors
            raise V2LError(
                f"{cls.WHAT} weights {weights} do not fit its config ({str(exc).splitlines()[0]}); {cls.FIX}"
            ) from None
        return model.eval()
