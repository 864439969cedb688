"""The `v2l` command line: info numbers, predict/generate files, and clear errors without tracebacks."""

import json
import subprocess
import sys

from typer.testing import CliRunner

from v2l.cli.main import app
from v2l.lora.files import load_compact, load_standard
from v2l.video.io import decode_frames

runner = CliRunner()


def _run(*args):
    result = runner.invoke(app, [str(a) for a in args])
    return result


def test_info_5b_numbers_from_the_meta_model():
    result = _run("info", "--preset", "cogvideox-5b-i2v", "--json")
    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout)
    assert info["lora_modules"] == 168
    assert info["numbers_per_reference"] == 25_200
    assert 25_200 * 2 < info["compact_bytes_bf16"] <= 51_200
    assert info["aux_params"] == 168 * (100 * 3072 + 3072 * 50)
    assert info["aux_bytes_bf16"] <= 157_286_400
    assert info["hypernet_params"] == 1_495_500  # the official hypernetwork's count for these sizes


def test_info_tiny_and_unknown_preset():
    result = _run("info", "--preset", "tiny", "--json")
    assert json.loads(result.stdout)["lora_modules"] == 24
    bad = _run("info", "--preset", "nope")
    assert bad.exit_code == 2 and "unknown backbone preset 'nope'" in bad.output


def _committed_hypernet_version() -> str:
    from safetensors import safe_open

    from v2l.backbones.tiny import TINY_WEIGHTS

    with safe_open(str(TINY_WEIGHTS / "hypernet" / "model.safetensors"), "pt") as f:
        return f.metadata()["version"]


def test_predict_writes_every_format(sample_paths, tmp_path):
    ref, _ = sample_paths
    for fmt in ("compact", "diffusers", "kohya"):
        out = tmp_path / f"l.{fmt}.safetensors"
        result = _run("predict", "--reference", ref, "--out", out, "--format", fmt)
        assert result.exit_code == 0, result.output
        assert "random init" not in result.output  # the committed release hypernetwork is the default
        if fmt == "compact":
            lora = load_compact(out)
            assert lora.A_pred.shape == (24, 1, 100)
            assert lora.metadata["hypernet_sha256"] == _committed_hypernet_version()
        else:
            assert len(load_standard(out)) == 24


def test_generate_writes_mp4_with_requested_frames(sample_paths, tmp_path):
    ref, image = sample_paths
    out = tmp_path / "gen.mp4"
    result = _run(
        "generate",
        "--reference",
        ref,
        "--image",
        image,
        "--prompt",
        "a cup of coffee",
        "--out",
        out,
        "--frames",
        17,
        "--steps",
        3,
        "--seed",
        7,
        "--guidance",
        3.0,
    )
    assert result.exit_code == 0, result.output
    frames, _ = decode_frames(out)
    assert frames.shape == (17, 48, 48, 3)


def test_generate_from_compact_lora_file(sample_paths, tmp_path):
    ref, image = sample_paths
    lora = tmp_path / "l.safetensors"
    assert _run("predict", "--reference", ref, "--out", lora).exit_code == 0
    out = tmp_path / "gen.mp4"
    result = _run("generate", "--lora", lora, "--image", image, "--prompt", "coffee", "--out", out, "--steps", 2)
    assert result.exit_code == 0, result.output
    assert decode_frames(out)[0].shape[0] == 9


def test_bad_inputs_give_one_line_errors(sample_paths, tmp_path):
    ref, image = sample_paths
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"")
    r = _run("generate", "--lora", junk, "--image", image, "--prompt", "x", "--out", tmp_path / "o.mp4")
    assert r.exit_code == 2 and "junk.safetensors" in r.output and "empty" in r.output
    assert r.exception is None or isinstance(r.exception, SystemExit)

    video = tmp_path / "notavideo.mp4"
    video.write_text("hello")
    r = _run("predict", "--reference", video, "--out", tmp_path / "l.safetensors")
    assert r.exit_code == 2 and "notavideo.mp4" in r.output
    assert not (tmp_path / "l.safetensors").exists(), "nothing half-written on failure"

    r = _run(
        "generate", "--reference", ref, "--image", image, "--prompt", "x", "--out", tmp_path / "o.mp4", "--frames", 13
    )
    assert r.exit_code == 2 and "8k+1" in r.output and "13" in r.output


def test_console_script_errors_without_traceback(tmp_path):
    """The installed entry point, in a real subprocess: no traceback for bad input."""
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"\x00" * 10)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "v2l.cli.main",
            "predict",
            "--reference",
            str(bad),
            "--out",
            str(tmp_path / "x.safetensors"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 2
    assert "error: video" in proc.stderr and "bad.mp4" in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout


def test_pretrain_and_evaluate_errors_are_one_line(tmp_path):
    """Sub-app commands get the same handling: a missing VAE is named with the fix, exit 2, no traceback."""
    r = _run("pretrain", "backbone", "--out", tmp_path / "bb", "--vae", tmp_path / "no-vae", "--max-steps", 1)
    assert r.exit_code == 2, r.output
    assert "no-vae" in r.output and "v2l pretrain vae --install" in r.output
    assert r.exception is None or isinstance(r.exception, SystemExit)
    assert not (tmp_path / "bb").exists(), "nothing written on failure"


def test_progress_messages_are_plain_stderr_lines_and_quiet_hides_them(tmp_path):
    import logging

    args = [
        "data",
        "build",
        "--no-photos",
        "--procedural",
        "8",
        "--pairs-per-semantic",
        "1",
        "--eval-pairs",
        "1",
        "--size",
        "16x16",
        "--frames",
        "1",
    ]
    try:
        shown = _run(*args, "--out", tmp_path / "a")
        assert shown.exit_code == 0, shown.output
        assert "gather: 8 inputs (0 labels rows refused)\n" in shown.stderr and "manifest" in shown.stdout
        quiet = _run("--quiet", *args, "--out", tmp_path / "b")
        assert quiet.exit_code == 0, quiet.output
        assert quiet.stderr == "" and "manifest" in quiet.stdout
    finally:
        logging.getLogger("v2l").setLevel(logging.NOTSET)
