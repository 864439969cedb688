"""The `tiny` preset: the same diffusers classes as CogVideoX-5B I2V at a size a 2-core CPU can train.

Sizes follow the design's feasibility trial (DESIGN.md, tiny-world feasibility notes): 9 frames of 48x48,
a 3-level VAE with 8 latent channels (4x spatial, 4x temporal), a 6-layer 4x32 I2V transformer.
"""

from __future__ import annotations

from pathlib import Path

from v2l.backbones.spec import BackboneSpec
from v2l.backbones.tiny_vocab import LETTERS, WORDS

# Trained weights land here (diffusers layout) once the tiny-world pretraining commits them.
TINY_WEIGHTS = Path(__file__).resolve().parent.parent / "assets" / "tiny"

# The same noise schedule as CogVideoX-5B I2V: v-prediction, zero-terminal-SNR, trailing spacing.
COGVIDEOX_SCHEDULER = dict(
    num_train_timesteps=1000,
    beta_start=0.00085,
    beta_end=0.012,
    beta_schedule="scaled_linear",
    clip_sample=False,
    set_alpha_to_one=True,
    steps_offset=0,
    prediction_type="v_prediction",
    rescale_betas_zero_snr=True,
    timestep_spacing="trailing",
    snr_shift_scale=1.0,
)


class TinySpec(BackboneSpec):
    def __init__(self) -> None:
        super().__init__(
            name="tiny",
            transformer_config=dict(
                num_attention_heads=4,
                attention_head_dim=32,
                in_channels=16,
                out_channels=8,
                time_embed_dim=128,
                text_embed_dim=32,
                num_layers=6,
                sample_width=12,
                sample_height=12,
                sample_frames=9,
                patch_size=2,
                temporal_compression_ratio=4,
                max_text_seq_length=16,
                use_rotary_positional_embeddings=False,
                use_learned_positional_embeddings=False,
            ),
            vae_config=dict(
                in_channels=3,
                out_channels=3,
                down_block_types=("CogVideoXDownBlock3D",) * 3,
                up_block_types=("CogVideoXUpBlock3D",) * 3,
                block_out_channels=(16, 32, 64),
                latent_channels=8,
                layers_per_block=1,
                norm_num_groups=16,
                temporal_compression_ratio=4,
                sample_height=48,
                sample_width=48,
                scaling_factor=1.0,
            ),
            text_encoder_config=dict(
                vocab_size=4 + len(WORDS) + len(LETTERS),
                d_model=32,
                d_kv=8,
                d_ff=64,
                num_layers=2,
                num_heads=4,
                relative_attention_num_buckets=8,
                decoder_start_token_id=0,
                pad_token_id=0,
                eos_token_id=1,
            ),
            scheduler_config=COGVIDEOX_SCHEDULER,
            num_frames=9,
            height=48,
            width=48,
            fps=8,
            max_text_len=16,
            default_weights=TINY_WEIGHTS,
            notes="tiny world built by the project; random init until trained weights are committed",
        )

    def build_tokenizer(self):
        """An in-memory T5 (Unigram) tokenizer over the caption vocabulary: no download, no file."""
        from transformers import T5Tokenizer

        # Whole words score higher than their spelling, so known words stay one token.
        vocab = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0)]
        vocab += [(f"\u2581{w}", -2.0) for w in WORDS]
        vocab += [("\u2581", -8.0)] + [(c, -8.0) for c in LETTERS]
        return T5Tokenizer(vocab=vocab, extra_ids=0)
