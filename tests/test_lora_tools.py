"""`v2l lora inspect / scale / mix` on real predicted LoRAs of the committed hypernetwork."""

from __future__ import annotations

import pytest
import torch
from typer.testing import CliRunner

from v2l.video.sample import write_sample

FORMATS = ("compact", "diffusers", "kohya")


@pytest.fixture(scope="module")
def committed():
    from v2l.model import default_model

    return default_model()


@pytest.fixture(scope="module")
def files(tmp_path_factory, committed):
    """{(reference, format): path} for two references in every format."""
    from v2l.inference.predict import predict_lora, write_lora

    tmp = tmp_path_factory.mktemp("loras")
    out = {}
    for name in ("astronaut", "coffee"):
        ref, _ = write_sample(tmp, name)
        lora = predict_lora(committed, ref)
        for fmt in FORMATS:
            out[name, fmt] = write_lora(tmp / f"{name}.{fmt}.safetensors", lora, committed, fmt)
    return out


def _delta(pairs):
    return {name: up.double() @ down.double() for name, (down, up) in pairs.items()}


def test_mix_with_weights_1_0_reproduces_the_first(files, tmp_path, committed):
    from v2l.lora.files import load_compact, load_standard, standard_pairs
    from v2l.lora.tools import mix_loras

    a, b = files["astronaut", "compact"], files["coffee", "compact"]
    mixed = load_compact(mix_loras([a, b], [1.0, 0.0], tmp_path / "m.safetensors"))
    first = load_compact(a)
    assert torch.equal(mixed.A_pred, first.A_pred) and torch.equal(mixed.B_pred, first.B_pred)
    assert mixed.scale == first.scale and mixed.metadata["hypernet_sha256"] == first.metadata["hypernet_sha256"]
    # ... and so does the same in weight space, for both standard styles.
    for fmt in ("diffusers", "kohya"):
        out = mix_loras([files["astronaut", fmt], files["coffee", fmt]], [1.0, 0.0], tmp_path / f"m.{fmt}")
        got, want = _delta(load_standard(out)), _delta(load_standard(files["astronaut", fmt]))
        assert all(torch.equal(got[k], want[k]) for k in want)
    # Code-space mixing: halfway codes, as the hypernetwork's outputs are averaged.
    half = load_compact(mix_loras([a, b], [0.5, 0.5], tmp_path / "h.safetensors"))
    second = load_compact(b)
    want_A = (0.5 * first.A_pred.float() + 0.5 * second.A_pred.float()).to(torch.bfloat16)
    assert torch.equal(half.A_pred, want_A)
    assert standard_pairs(type(half)(half.A_pred.float(), half.B_pred.float(), half.metadata), committed)


def test_standard_mix_is_the_weighted_sum_of_delta_w(files, tmp_path):
    from v2l.lora.files import load_standard
    from v2l.lora.tools import mix_loras

    w = [0.7, -1.3]
    for fmt in ("diffusers", "kohya"):
        out = mix_loras([files["astronaut", fmt], files["coffee", fmt]], w, tmp_path / f"mix.{fmt}.safetensors")
        mixed = load_standard(out)
        d1, d2 = _delta(load_standard(files["astronaut", fmt])), _delta(load_standard(files["coffee", fmt]))
        assert next(iter(mixed.values()))[0].shape[0] == 2  # ranks concatenated
        for name, delta in _delta(mixed).items():
            expected = w[0] * d1[name] + w[1] * d2[name]
            assert (delta - expected).abs().max() <= 1e-6 * max(1.0, expected.abs().max()), name


@pytest.mark.parametrize("fmt", FORMATS)
def test_scale_composes_to_identity(files, tmp_path, fmt, committed):
    from v2l.lora.files import load_compact, load_standard, standard_pairs
    from v2l.lora.tools import scale_lora

    src = files["astronaut", fmt]
    doubled = scale_lora(src, 2.0, tmp_path / "x2.safetensors")
    back = scale_lora(doubled, 0.5, tmp_path / "x1.safetensors")
    assert back.read_bytes() == src.read_bytes()
    if fmt == "compact":
        pairs = standard_pairs(load_compact(doubled), committed)
        base = standard_pairs(load_compact(src), committed)
    else:
        pairs, base = load_standard(doubled), load_standard(src)
    for name, (down, up) in base.items():  # dW doubled
        assert torch.allclose(_delta({name: pairs[name]})[name], 2 * _delta({name: (down, up)})[name], atol=1e-9)


def test_mixing_different_hypernetwork_versions_fails_with_one_line(files, tmp_path, tiny_model, sample_paths):
    from v2l.cli.main import app
    from v2l.inference.predict import predict_lora, write_lora

    other = write_lora(tmp_path / "other.safetensors", predict_lora(tiny_model, sample_paths[0]), tiny_model)
    out = tmp_path / "never.safetensors"
    result = CliRunner().invoke(
        app, ["lora", "mix", str(files["astronaut", "compact"]), str(other), "--weights", "0.5,0.5", "--out", str(out)]
    )
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "different hypernetwork versions" in lines[0]
    assert not out.exists()
    kinds = CliRunner().invoke(
        app,
        [
            "lora",
            "mix",
            str(files["astronaut", "compact"]),
            str(files["coffee", "kohya"]),
            "--weights",
            "1,1",
            "--out",
            str(out),
        ],
    )
    assert kinds.exit_code == 2 and "cannot mix compact and standard" in kinds.output


def test_inspect_reports_format_provenance_and_match(files, tmp_path, tiny_model, sample_paths, committed):
    from v2l.inference.predict import predict_lora, write_lora
    from v2l.lora.tools import inspect_lora

    info = inspect_lora(files["astronaut", "compact"], committed)
    assert (info["kind"], info["modules"], info["r"], info["a"], info["b"]) == ("compact", 24, 1, 100, 50)
    assert info["needs"]["aux"] and info["matches_committed"] is True
    assert info["metadata"]["reference_sha256"] and len(info["norms"]) == 24 and info["norms"][0]["A_pred"] > 0
    kohya = inspect_lora(files["astronaut", "kohya"], committed)
    assert kohya["kind"] == "kohya" and not kohya["needs"]["aux"] and kohya["norms"][0]["delta_w"] > 0
    other = write_lora(tmp_path / "o.safetensors", predict_lora(tiny_model, sample_paths[0]), tiny_model)
    assert inspect_lora(other, committed)["matches_committed"] is False
    from v2l.cli.main import app

    shown = CliRunner().invoke(app, ["lora", "inspect", str(files["coffee", "diffusers"])])
    assert shown.exit_code == 0 and "diffusers" in shown.output and "committed: yes" in shown.output
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"not a safetensors file")
    broken = CliRunner().invoke(app, ["lora", "inspect", str(bad)])
    assert broken.exit_code == 2 and "error:" in broken.output
