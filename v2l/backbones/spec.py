"""One spec class per backbone preset (finetrainers-style) and the loaded `Backbone` it produces.

A spec holds the component configs and knows how to build or load them; a `Backbone` holds the frozen
components and implements what Video2LoRA needs: encode video to latents, encode text, the I2V
training forward (v-prediction), and I2V sampling through diffusers' stock pipeline.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from v2l.backbones.prompts import i2v_pipeline_class, note_truncation
from v2l.cards.card import verify
from v2l.cards.lineage import stale_upstream
from v2l.errors import V2LError


@dataclass
class BackboneSpec:
    name: str
    transformer_config: dict[str, Any]
    vae_config: dict[str, Any]
    text_encoder_config: dict[str, Any]
    scheduler_config: dict[str, Any]
    num_frames: int
    height: int
    width: int
    fps: int
    max_text_len: int
    # Diffusers-layout directory with transformer/, vae/, text_encoder/, tokenizer/ subfolders, if any.
    default_weights: Path | None = None
    notes: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    # -- construction -------------------------------------------------------------------------
    def build_transformer(self):
        from diffusers import CogVideoXTransformer3DModel

        return CogVideoXTransformer3DModel(**self.transformer_config)

    def build_vae(self):
        from diffusers import AutoencoderKLCogVideoX

        return AutoencoderKLCogVideoX(**self.vae_config)

    def build_text_encoder(self):
        from transformers import T5Config, T5EncoderModel

        return T5EncoderModel(T5Config(**self.text_encoder_config))

    def build_tokenizer(self):
        raise NotImplementedError(f"preset {self.name} has no built-in tokenizer; load it from its weights directory")

    def build_scheduler(self):
        from diffusers import CogVideoXDDIMScheduler

        return CogVideoXDDIMScheduler(**self.scheduler_config)

    def meta_transformer(self):
        """The transformer with no storage: exact shapes and parameter counts on any machine."""
        with torch.device("meta"):
            return self.build_transformer()

    def latent_channels(self) -> int:
        return int(self.vae_config.get("latent_channels", 16))

    def random_init(
        self, seed: int = 0, dtype: torch.dtype = torch.float32, device: str | torch.device = "cpu"
    ) -> "Backbone":
        """Deterministic random weights: the same seed (and device) gives bit-identical components.

        Built directly on `device`, so a 5B backbone on random weights never passes through host memory.
        Presets whose tokenizer comes only from a weights directory get none: feed text embeddings directly.
        """
        parts = {}
        for i, (key, build) in enumerate(
            (
                ("transformer", self.build_transformer),
                ("vae", self.build_vae),
                ("text_encoder", self.build_text_encoder),
            )
        ):
            with torch.random.fork_rng(devices=[]), torch.device(device):
                torch.manual_seed(seed + i)
                module = build()
                parts[key] = module if dtype == torch.float32 else module.to(dtype)
        try:
            tokenizer = self.build_tokenizer()
        except NotImplementedError:
            tokenizer = None
        return Backbone(
            self,
            tokenizer=tokenizer,
            scheduler=self.build_scheduler(),
            random_weights=True,
            source=f"random-init(seed={seed})",
            **parts,
        )

    def load(self, path: str | Path, dtype: torch.dtype = torch.float32, device: str = "cpu") -> "Backbone":
        """Load components from a diffusers-layout directory (local only: nothing is downloaded)."""
        from diffusers import AutoencoderKLCogVideoX, CogVideoXDDIMScheduler, CogVideoXTransformer3DModel
        from transformers import AutoTokenizer, T5EncoderModel

        path = Path(path)
        missing = [s for s in ("transformer", "vae", "text_encoder") if not (path / s).is_dir()]
        if missing:
            raise V2LError(
                f"{path} is not a backbone weights directory (missing {', '.join(missing)}/); pass a local "
                f"diffusers-layout folder such as a downloaded THUDM/CogVideoX-5b-I2V"
            )
        kw = dict(torch_dtype=dtype, local_files_only=True)
        transformer = CogVideoXTransformer3DModel.from_pretrained(path / "transformer", **kw)
        vae = AutoencoderKLCogVideoX.from_pretrained(path / "vae", **kw)
        text_encoder = T5EncoderModel.from_pretrained(path / "text_encoder", **kw)
        tokenizer = (
            AutoTokenizer.from_pretrained(path / "tokenizer", local_files_only=True)
            if (path / "tokenizer").is_dir()
            else self.build_tokenizer()
        )
        scheduler = (
            CogVideoXDDIMScheduler.from_pretrained(path / "scheduler", local_files_only=True)
            if (path / "scheduler").is_dir()
            else self.build_scheduler()
        )
        bb = Backbone(
            self,
            transformer=transformer,
            vae=vae,
            text_encoder=text_encoder,
            tokenizer=tokenizer,
            scheduler=scheduler,
            random_weights=False,
            source=str(path),
        )
        # Carded parts (a candidate tiny chain) are checked and fingerprinted like the committed ones, so a
        # hypernetwork trained on this folder records what it was trained on; uncarded folders (5B) carry none.
        for key in ("transformer", "vae", "text_encoder"):
            if (path / key / "card.json").is_file():
                bb.fingerprint[key] = verify(path / key)["files"]
        return bb.to(device)

    def default(self, dtype: torch.dtype = torch.float32) -> "Backbone":
        """Committed weights where the preset ships them (per component), else deterministic random init."""
        bb = self.random_init(dtype=dtype)
        root = self.default_weights
        if root is None:
            return bb
        from diffusers import AutoencoderKLCogVideoX, CogVideoXTransformer3DModel
        from transformers import T5EncoderModel

        loaders = {
            "transformer": CogVideoXTransformer3DModel,
            "vae": AutoencoderKLCogVideoX,
            "text_encoder": T5EncoderModel,
        }
        trained = []

        for key, cls in loaders.items():
            if (root / key / "config.json").is_file():
                card = verify(root / key)  # a corrupted committed file is refused, never silently loaded
                setattr(bb, key, cls.from_pretrained(root / key, torch_dtype=dtype, local_files_only=True))
                bb.fingerprint[key] = card["files"]
                trained.append(key)
        if "transformer" in trained:
            import json
            import warnings

            stale = stale_upstream(root, "transformer", json.loads((root / "transformer" / "card.json").read_text()))
            if stale:  # loads anyway (it may be what is being measured), but never silently
                warnings.warn(stale, stacklevel=2)
        if trained:
            bb.__post_init__()
            bb.random_weights = len(trained) < len(loaders)
            bb.source = f"{root} ({', '.join(trained)} trained" + (", rest random-init)" if bb.random_weights else ")")
        return bb


@dataclass
class Backbone:
    spec: BackboneSpec
    transformer: Any
    vae: Any
    text_encoder: Any
    tokenizer: Any
    scheduler: Any
    random_weights: bool
    source: str
    # {component: {file: sha256}} of the committed (card-verified) parts: what a hypernetwork trained on it
    # records, so a checkpoint is never resumed or installed on another backbone unnoticed.
    fingerprint: dict[str, dict[str, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for m in (self.transformer, self.vae, self.text_encoder):
            m.requires_grad_(False)
            m.eval()

    def to(self, device) -> "Backbone":
        for m in (self.transformer, self.vae, self.text_encoder):
            m.to(device)
        return self

    @property
    def device(self) -> torch.device:
        return next(self.transformer.parameters()).device

    @property
    def dtype(self) -> torch.dtype:
        return next(self.transformer.parameters()).dtype

    @property
    def scaling_factor(self) -> float:
        return float(self.vae.config.scaling_factor)

    def save(self, path: str | Path) -> None:
        path = Path(path)
        for key in ("transformer", "vae", "text_encoder", "tokenizer", "scheduler"):
            getattr(self, key).save_pretrained(path / key)

    def pipeline(self):
        return i2v_pipeline_class()(
            tokenizer=self.tokenizer,
            text_encoder=self.text_encoder,
            vae=self.vae,
            transformer=self.transformer,
            scheduler=self.scheduler,
        )

    # -- encoders (all frozen, no grad) -----------------------------------------------------------
    @torch.no_grad()
    def encode_video(self, frames: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """(B, 3, F, H, W) in [-1, 1] -> scaled latents (B, C, T, h, w); posterior mode unless a generator is given."""
        dist = self.vae.encode(frames.to(self.device, self.vae.dtype)).latent_dist
        latents = dist.sample(generator) if generator is not None else dist.mode()
        return latents * self.scaling_factor

    @torch.no_grad()
    def image_latents(
        self, first_frame: torch.Tensor, latent_frames: int, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """The I2V condition exactly as CogVideoXImageToVideoPipeline builds it: (B, T, C, h, w)."""
        dist = self.vae.encode(first_frame.unsqueeze(2).to(self.device, self.vae.dtype)).latent_dist
        lat = dist.sample(generator).permute(0, 2, 1, 3, 4)
        sf = self.scaling_factor
        lat = lat / sf if getattr(self.vae.config, "invert_scale_latents", False) else lat * sf
        pad = lat.new_zeros(lat.shape[0], latent_frames - 1, *lat.shape[2:])
        return torch.cat([lat, pad], dim=1)

    @torch.no_grad()
    def encode_text(self, captions: list[str]) -> torch.Tensor:
        if self.tokenizer is None:
            raise V2LError(
                f"backbone {self.spec.name} ({self.source}) has no tokenizer: load it from a weights "
                "directory with a tokenizer/ subfolder, or pass precomputed text embeddings"
            )

        note_truncation(self.tokenizer, captions, self.spec.max_text_len)
        ids = self.tokenizer(
            captions,
            padding="max_length",
            max_length=self.spec.max_text_len,
            truncation=True,
            add_special_tokens=True,
            return_tensors="pt",
        ).input_ids
        return self.text_encoder(ids.to(self.device))[0]

    # -- the transformer forward used in training ------------------------------------------------
    def rotary_emb(self, latent_frames: int, height: int, width: int):
        """RoPE for a (latent_frames, height, width) pixel-size clip, computed as CogVideoXImageToVideoPipeline
        does (diffusers' `get_3d_rotary_pos_embed`): CogVideoX 1.0 crops the grid into the base size, 1.5
        (a temporal patch size) slices it."""
        cfg = self.transformer.config
        if not cfg.use_rotary_positional_embeddings:
            return None
        from diffusers.models.embeddings import get_3d_rotary_pos_embed
        from diffusers.pipelines.cogvideo.pipeline_cogvideox_image2video import get_resize_crop_region_for_grid

        p, p_t = cfg.patch_size, cfg.patch_size_t
        spatial = 2 ** (len(self.vae.config.block_out_channels) - 1)
        grid = (height // (spatial * p), width // (spatial * p))
        base_height, base_width = cfg.sample_height // p, cfg.sample_width // p
        if p_t is None:
            crops = get_resize_crop_region_for_grid(grid, base_width, base_height)
            return get_3d_rotary_pos_embed(
                embed_dim=cfg.attention_head_dim,
                crops_coords=crops,
                grid_size=grid,
                temporal_size=latent_frames,
                device=self.device,
            )
        return get_3d_rotary_pos_embed(
            embed_dim=cfg.attention_head_dim,
            crops_coords=None,
            grid_size=grid,
            temporal_size=(latent_frames + p_t - 1) // p_t,
            grid_type="slice",
            max_size=(base_height, base_width),
            device=self.device,
        )

    def predict_velocity(
        self,
        noisy: torch.Tensor,
        image_latents: torch.Tensor,
        timesteps: torch.Tensor,
        text: torch.Tensor,
        height: int,
        width: int,
    ) -> torch.Tensor:
        """Transformer output for (B, T, C, h, w) noisy latents with the I2V image latents on channels."""
        cfg = self.transformer.config
        ofs = None if cfg.ofs_embed_dim is None else noisy.new_full((1,), 2.0)
        return self.transformer(
            hidden_states=torch.cat([noisy, image_latents], dim=2),
            encoder_hidden_states=text,
            timestep=timesteps,
            ofs=ofs,
            image_rotary_emb=self.rotary_emb(noisy.shape[1], height, width),
            return_dict=False,
        )[0]

    def diffusion_loss(
        self,
        target_latents: torch.Tensor,
        image_latents: torch.Tensor,
        text: torch.Tensor,
        height: int,
        width: int,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """v-prediction MSE on the I2V formulation, uniform t over the scheduler's training steps."""
        x0 = target_latents.permute(0, 2, 1, 3, 4)  # (B, T, C, h, w)
        b = x0.shape[0]
        noise = torch.randn(x0.shape, generator=generator, dtype=x0.dtype, device="cpu").to(x0.device)
        t = torch.randint(0, self.scheduler.config.num_train_timesteps, (b,), generator=generator).to(x0.device)
        noisy = self.scheduler.add_noise(x0, noise, t)
        target = self.scheduler.get_velocity(x0, noise, t)
        pred = self.predict_velocity(noisy, image_latents, t, text, height, width)
        return torch.nn.functional.mse_loss(pred.float(), target.float())
