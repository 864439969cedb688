"""Shared fixtures: offline and quiet environment, the tiny preset built once per session."""

from __future__ import annotations

import os

for key, value in {
    "HF_HUB_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "RAY_USAGE_STATS_ENABLED": "0",
    "RAY_AUTH_MODE": "disabled",
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "DO_NOT_TRACK": "true",
}.items():
    os.environ.setdefault(key, value)

import pytest  # noqa: E402
import torch  # noqa: E402

# One thread: test tensors are small, and a training job may be using the other core.
torch.set_num_threads(int(os.environ.get("V2L_TEST_THREADS", "1")))


@pytest.fixture(scope="session")
def tiny_spec():
    from v2l.backbones import get_spec

    return get_spec("tiny")


@pytest.fixture()
def tiny_model():
    """A fresh tiny Video2LoRA on dummy components: a random-initialised backbone (seeded, diffusers' dummy-
    components style) and hypernetwork, so no unit test's tolerance depends on committed weights. The backbone
    gets wrapped in place, so never share one across tests."""
    from v2l.backbones import get_spec
    from v2l.config import V2LConfig
    from v2l.model import Video2LoRA

    return Video2LoRA(get_spec("tiny").random_init(seed=0), V2LConfig(preset="tiny"))


@pytest.fixture()
def sample_paths(tmp_path, tiny_spec):
    from v2l.video.sample import write_sample

    ref, _ = write_sample(tmp_path / "in", "astronaut", tiny_spec.num_frames, tiny_spec.height)
    _, image = write_sample(tmp_path / "in", "coffee", tiny_spec.num_frames, tiny_spec.height)
    return ref, image


def _transformer_inputs(spec, batch, seed=0):
    """Random but fixed inputs for one tiny transformer forward (latent 3x12x12, I2V channels)."""
    g = torch.Generator().manual_seed(seed)
    cfg = spec.transformer_config
    hidden = torch.randn(batch, 3, cfg["in_channels"], 12, 12, generator=g)
    text = torch.randn(batch, cfg["max_text_seq_length"], cfg["text_embed_dim"], generator=g)
    t = torch.randint(0, 1000, (batch,), generator=g)
    return dict(hidden_states=hidden, encoder_hidden_states=text, timestep=t, return_dict=False)


@pytest.fixture(scope="session")
def transformer_inputs():
    return _transformer_inputs
