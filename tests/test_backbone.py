"""Backbone presets: deterministic tiny init, save/load through the same path real weights use, meta 5B."""

import pytest
import torch

from v2l.backbones import get_spec


def test_tiny_random_init_is_deterministic(tiny_spec):
    a, b = tiny_spec.random_init(seed=3), tiny_spec.random_init(seed=3)
    for x, y in zip(a.transformer.state_dict().values(), b.transformer.state_dict().values()):
        assert torch.equal(x, y)
    c = tiny_spec.random_init(seed=4)
    assert not torch.equal(next(iter(a.vae.parameters())), next(iter(c.vae.parameters())))


def test_save_and_load_from_a_diffusers_folder(tiny_spec, tmp_path, transformer_inputs):
    """`load(DIR)` is how cogvideox-5b-i2v loads a user's weights; round-trip the tiny preset through it."""
    bb = tiny_spec.random_init(seed=1)
    bb.save(tmp_path / "weights")
    loaded = tiny_spec.load(tmp_path / "weights")
    assert not loaded.random_weights
    for name in ("transformer", "vae", "text_encoder"):
        ours, theirs = getattr(bb, name).state_dict(), getattr(loaded, name).state_dict()
        assert ours.keys() == theirs.keys() and all(torch.equal(ours[k], theirs[k]) for k in ours)
    inputs = transformer_inputs(tiny_spec, 1)
    with torch.no_grad():
        torch.testing.assert_close(loaded.transformer(**inputs)[0], bb.transformer(**inputs)[0], atol=1e-5, rtol=0)
    captions = ["a photo of a cat", "a red car on a street"]
    torch.testing.assert_close(loaded.encode_text(captions), bb.encode_text(captions), atol=0, rtol=0)


def test_a_carded_weights_folder_is_fingerprinted_like_the_committed_one(tiny_spec, tmp_path):
    """A candidate chain in its own folder records the same fingerprint as when installed, and is verified."""
    import shutil

    from v2l.backbones.tiny import TINY_WEIGHTS
    from v2l.errors import V2LError

    for part in ("transformer", "vae", "text_encoder"):
        shutil.copytree(TINY_WEIGHTS / part, tmp_path / part)
    assert tiny_spec.load(tmp_path).fingerprint == tiny_spec.default().fingerprint
    assert set(tiny_spec.load(tmp_path).fingerprint) == {"transformer", "vae", "text_encoder"}
    (tmp_path / "vae" / "card.json").unlink()  # an uncarded part carries no fingerprint, as a 5B folder
    assert set(tiny_spec.load(tmp_path).fingerprint) == {"transformer", "text_encoder"}
    weights = tmp_path / "transformer" / "diffusion_pytorch_model.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0xFF  # one flipped byte in a weight
    weights.write_bytes(bytes(data))
    with pytest.raises(V2LError, match="corrupted"):
        tiny_spec.load(tmp_path)


def test_vae_frame_rule_8k_plus_1(tiny_spec):
    """Why valid counts are 8k+1: an even number of latent frames does not decode back to its length."""
    vae = tiny_spec.random_init().vae
    for frames, decoded in ((9, 9), (17, 17), (13, 16)):
        with torch.no_grad():
            z = vae.encode(torch.zeros(1, 3, frames, 16, 16)).latent_dist.mode()
            assert vae.decode(z).sample.shape[2] == decoded


def test_5b_preset_on_meta_device():
    spec = get_spec("cogvideox-5b-i2v")
    tr = spec.meta_transformer()
    assert next(tr.parameters()).device.type == "meta"
    assert len(tr.transformer_blocks) == 42
    assert tr.transformer_blocks[0].attn1.to_q.in_features == 3072
    assert tr.config.in_channels == 2 * spec.latent_channels()  # I2V: image latents concatenated on channels


def test_5b_i2v_training_forward_with_lora_on_meta():
    """The real-size path (RoPE, learned positions, 49 frames at 480x720, 168 LoRA modules) checks its shapes."""
    from v2l.backbones.spec import Backbone
    from v2l.config import HypernetConfig, LoRAConfig
    from v2l.hypernet.model import Hypernetwork
    from v2l.lora.lightlora import LightLoRANetwork

    spec = get_spec("cogvideox-5b-i2v")
    with torch.device("meta"):
        tr, vae = spec.build_transformer(), spec.build_vae()
    bb = Backbone.__new__(Backbone)  # no text encoder or tokenizer needed for the transformer forward
    bb.spec, bb.transformer, bb.vae = spec, tr, vae
    net = LightLoRANetwork(tr, LoRAConfig())
    with torch.device("meta"):
        hypernet = Hypernetwork(spec.latent_channels(), len(net), 150, HypernetConfig())
        A, B = net.split(hypernet(torch.randn(1, 16, 13, 60, 90)))
        noisy, image = torch.randn(1, 13, 16, 60, 90), torch.randn(1, 13, 16, 60, 90)
        with net.applied(A, B):
            out = bb.predict_velocity(
                noisy, image, torch.zeros(1, dtype=torch.long), torch.randn(1, 226, 4096), 480, 720
            )
    assert len(net) == 168 and A.shape == (1, 168, 1, 100) and B.shape == (1, 168, 50, 1)
    assert out.shape == (1, 13, 16, 60, 90)


def test_5b_random_init_builds_on_the_given_device_without_a_tokenizer():
    """The real-size preset on random weights (as the GPU benchmark builds it): on `meta` here, no storage."""
    from v2l.errors import V2LError

    bb = get_spec("cogvideox-5b-i2v").random_init(dtype=torch.bfloat16, device="meta")
    assert bb.device.type == "meta" and bb.dtype == torch.bfloat16
    assert next(bb.text_encoder.parameters()).device.type == "meta"
    assert bb.tokenizer is None  # the T5 tokenizer only comes with a weights directory
    with pytest.raises(V2LError, match="no tokenizer.*tokenizer/ subfolder"):
        bb.encode_text(["a caption"])


@pytest.mark.parametrize("patch_size_t", [None, 2], ids=["cogvideox-1.0", "cogvideox-1.5"])
def test_rotary_embeddings_equal_the_i2v_pipelines_own(tiny_spec, patch_size_t):
    """`rotary_emb` (diffusers' public function) gives the pipeline's RoPE: grid crop (1.0), temporal slices (1.5)."""
    import copy

    spec = copy.copy(tiny_spec)
    spec.transformer_config = {
        **tiny_spec.transformer_config,
        "use_rotary_positional_embeddings": True,
        "patch_size_t": patch_size_t,
    }
    bb = spec.random_init(seed=0)
    pipe = bb.pipeline()
    # The base grid is 6x6 patches (48x48 pixels); 1.0 crops other shapes into it, 1.5 slices it (so at most 6x6).
    sizes = ((3, 48, 48), (3, 48, 80), (5, 64, 40)) if patch_size_t is None else ((3, 48, 48), (5, 40, 48))
    for frames, height, width in sizes:
        ours = bb.rotary_emb(frames, height, width)
        theirs = pipe._prepare_rotary_positional_embeddings(height, width, frames, bb.device)
        assert len(ours) == len(theirs) == 2
        for a, b in zip(ours, theirs):
            assert a.shape == b.shape and torch.equal(a, b)
    assert bb.rotary_emb(3, 48, 48)[0].shape[0] == (3 if patch_size_t is None else 2) * 36
