"""The paper's backbone, CogVideoX-5B I2V (diffusers layout, e.g. THUDM/CogVideoX-5b-I2V).

Weights load from a local directory the user provides; the configs below let the model be
instantiated on the `meta` device anywhere, so sizes are computed exactly without the weights.
"""

from __future__ import annotations

from v2l.backbones.spec import BackboneSpec
from v2l.backbones.tiny import COGVIDEOX_SCHEDULER


class CogVideoX5BI2VSpec(BackboneSpec):
    def __init__(self) -> None:
        super().__init__(
            name="cogvideox-5b-i2v",
            transformer_config=dict(
                num_attention_heads=48,
                attention_head_dim=64,
                in_channels=32,
                out_channels=16,
                flip_sin_to_cos=True,
                freq_shift=0,
                time_embed_dim=512,
                text_embed_dim=4096,
                num_layers=42,
                dropout=0.0,
                attention_bias=True,
                sample_width=90,
                sample_height=60,
                sample_frames=49,
                patch_size=2,
                temporal_compression_ratio=4,
                max_text_seq_length=226,
                activation_fn="gelu-approximate",
                timestep_activation_fn="silu",
                norm_elementwise_affine=True,
                norm_eps=1e-5,
                spatial_interpolation_scale=1.875,
                temporal_interpolation_scale=1.0,
                use_rotary_positional_embeddings=True,
                use_learned_positional_embeddings=True,
            ),
            vae_config=dict(
                in_channels=3,
                out_channels=3,
                down_block_types=("CogVideoXDownBlock3D",) * 4,
                up_block_types=("CogVideoXUpBlock3D",) * 4,
                block_out_channels=(128, 256, 256, 512),
                latent_channels=16,
                layers_per_block=3,
                act_fn="silu",
                norm_eps=1e-6,
                norm_num_groups=32,
                temporal_compression_ratio=4,
                sample_height=480,
                sample_width=720,
                scaling_factor=0.7,
                invert_scale_latents=False,
            ),
            # T5 v1.1 XXL encoder (google/t5-v1_1-xxl), as shipped in the CogVideoX repositories.
            text_encoder_config=dict(
                vocab_size=32128,
                d_model=4096,
                d_kv=64,
                d_ff=10240,
                num_layers=24,
                num_heads=64,
                relative_attention_num_buckets=32,
                feed_forward_proj="gated-gelu",
                dropout_rate=0.1,
                layer_norm_epsilon=1e-6,
                decoder_start_token_id=0,
                pad_token_id=0,
                eos_token_id=1,
            ),
            scheduler_config=COGVIDEOX_SCHEDULER,
            num_frames=49,
            height=480,
            width=720,
            fps=8,
            max_text_len=226,
            notes="load with --backbone-weights DIR (a local THUDM/CogVideoX-5b-I2V folder)",
        )

    def build_tokenizer(self):
        raise NotImplementedError(
            "cogvideox-5b-i2v needs the T5 tokenizer from its weights directory (tokenizer/ subfolder)"
        )
