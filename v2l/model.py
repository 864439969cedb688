"""Video2LoRA = frozen backbone + LightLoRA network + hypernetwork, and its checkpoint directory.

A checkpoint directory holds `config.json` (the V2LConfig) and `model.safetensors` (hypernetwork and
aux matrices, fp32; see v2l.saved_model). Its `version` is a hash of those tensors: compact LoRA files record it, because
a predicted LoRA means nothing without the aux matrices that made it.
"""

from __future__ import annotations

import hashlib
import warnings
from pathlib import Path

import torch

from v2l.backbones import Backbone, get_spec
from v2l.backbones.tiny import TINY_WEIGHTS
from v2l.cards.card import verify
from v2l.cards.lineage import check_trained_on, stale_upstream
from v2l.config import V2LConfig
from v2l.errors import V2LError
from v2l.hypernet.model import Hypernetwork
from v2l.lora.lightlora import LightLoRANetwork
from v2l.saved_model import check_folder, read_config, save_folder
from v2l.tensor_files import read_safetensors


class Video2LoRA(torch.nn.Module):
    def __init__(self, backbone: Backbone, cfg: V2LConfig, seed: int = 0):
        super().__init__()
        self.cfg = cfg
        self.backbone = backbone
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.network = LightLoRANetwork(backbone.transformer, cfg.lora)
            self.hypernet = Hypernetwork(
                backbone.spec.latent_channels(), len(self.network), cfg.lora.numbers_per_module, cfg.hypernet
            ).to(backbone.device)
        self.random_weights = True
        self.source = f"random-init(seed={seed})"

    # -- parameters ----------------------------------------------------------------------------
    def trainable_parameters(self) -> list[torch.nn.Parameter]:
        return list(self.hypernet.parameters()) + self.network.aux_parameters()

    def trainable_state_dict(self) -> dict[str, torch.Tensor]:
        state = {f"hypernet.{k}": v.detach() for k, v in self.hypernet.state_dict().items()}
        state.update({f"aux.{k}": v for k, v in self.network.aux_state_dict().items()})
        return state

    def load_trainable_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        hyper = {k[len("hypernet.") :]: v for k, v in state.items() if k.startswith("hypernet.")}
        self.hypernet.load_state_dict(hyper)
        self.network.load_aux_state_dict({k[len("aux.") :]: v for k, v in state.items() if k.startswith("aux.")})

    def version(self) -> str:
        """sha256 over the trainable tensors (names, shapes and fp32 bytes), in sorted order."""
        h = hashlib.sha256()
        for k, v in sorted(self.trainable_state_dict().items()):
            h.update(f"{k}:{tuple(v.shape)}".encode())
            h.update(v.detach().float().cpu().contiguous().numpy().tobytes())
        return h.hexdigest()

    # -- prediction ------------------------------------------------------------------------------
    def predict(self, reference: torch.Tensor) -> torch.Tensor:
        """Reference frames (B, 3, F, H, W) in [-1, 1] -> LoRA vectors (B, N, (a+b)*r)."""
        latents = self.backbone.encode_video(reference)
        return self.hypernet(latents.float())

    def predict_factors(self, reference: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.network.split(self.predict(reference))

    # -- checkpoints -----------------------------------------------------------------------------
    def save(self, directory: str | Path) -> Path:
        return save_folder(
            directory,
            {k: v.float() for k, v in self.trainable_state_dict().items()},
            self.cfg.model_dump_json(indent=2),
            metadata={"format": "v2l-checkpoint/1", "version": self.version()},
        )

    @classmethod
    def from_checkpoint(cls, directory: str | Path, backbone: Backbone | None = None) -> "Video2LoRA":
        directory = Path(directory)
        fix = "pass a directory written by training or `Video2LoRA.save`"
        cfg_path, weights_path = check_folder(directory, "v2l checkpoint", fix)
        try:
            cfg = V2LConfig.model_validate(read_config(cfg_path, fix))
        except ValueError as exc:  # a config of another shape
            raise V2LError(
                f"checkpoint config {cfg_path} cannot be read ({type(exc).__name__}: {str(exc).splitlines()[0]}); {fix}"
            ) from None
        state, _ = read_safetensors(weights_path, "checkpoint weights", fix)
        backbone = backbone or get_spec(cfg.preset).default()
        model = cls(backbone, cfg)
        try:
            model.load_trainable_state_dict(state)
        except (RuntimeError, KeyError) as exc:  # missing, extra or mis-shaped tensors
            raise V2LError(
                f"checkpoint weights {weights_path} do not fit its config ({str(exc).splitlines()[0]}); {fix}"
            ) from None
        model.random_weights = False
        model.source = str(directory)
        return model


def default_model(
    checkpoint: str | Path | None = None, preset: str = "tiny", backbone_weights: str | Path | None = None
) -> Video2LoRA:
    """The model the CLI uses: a checkpoint if given, else the committed tiny hypernetwork (its hashes checked
    against its card), else the preset's deterministic random init."""
    spec = get_spec(preset)
    backbone = spec.load(backbone_weights) if backbone_weights else spec.default()
    if checkpoint is not None:
        # A checkpoint on weights it was not trained on predicts LoRAs for another latent space: refuse, not guess.
        fix = "pass the backbone it was trained on (--backbone-weights DIR) or install that backbone first"
        if backbone.fingerprint:  # an uncarded folder (a downloaded 5B) has nothing to compare
            check_trained_on(checkpoint, backbone.fingerprint, fix)
        return Video2LoRA.from_checkpoint(checkpoint, backbone)
    if preset == "tiny" and backbone_weights is None:
        committed = TINY_WEIGHTS / "hypernet"
        if (committed / "card.json").is_file():
            card = verify(committed)
            stale = stale_upstream(TINY_WEIGHTS, "hypernet", card)
            if stale:  # its LoRAs were fitted to another backbone: say so, whatever the caller does next
                warnings.warn(stale, stacklevel=2)
            return Video2LoRA.from_checkpoint(committed, backbone)
    return Video2LoRA(backbone, V2LConfig(preset=preset))
