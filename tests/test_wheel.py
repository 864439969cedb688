"""`pip wheel .` gives a wheel that works on its own: the committed weights and shipped configs are inside it."""

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.integration


def _run(cmd, cwd, env=None):
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{cmd} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def test_wheel_installs_into_a_fresh_venv_and_runs_outside_the_repository(tmp_path):
    # Build from a copy of the sources, so no build/ folder of the checkout leaks into (or out of) the wheel.
    src = tmp_path / "src"
    shutil.copytree(
        ROOT,
        src,
        ignore=shutil.ignore_patterns(
            ".git", ".venv", "runs", "build", "*.egg-info", ".pytest_cache", "__pycache__", ".dagster*", "mlruns"
        ),
    )
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            str(src),
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path / "dist"),
        ],
        cwd=tmp_path,
    )
    wheel = next((tmp_path / "dist").glob("v2l-*.whl"))

    # A fresh venv whose only v2l is the wheel; third-party packages come from this venv's site-packages as a
    # plain path entry (its .pth files, and so the editable install of the checkout, are not processed).
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], cwd=tmp_path)
    py = venv / "bin" / "python"
    purelib = Path(
        _run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], cwd=tmp_path).strip()
    )
    (purelib / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    _run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(purelib), str(wheel)], cwd=tmp_path
    )

    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    where = _run(
        [str(py), "-c", "import v2l, pipelines; print(v2l.__file__); print(pipelines.__file__)"], cwd=work, env=env
    )
    assert all(line.startswith(str(purelib)) for line in where.split()), where

    models = _run([str(py), "-m", "v2l.cli.main", "models"], cwd=work, env=env)
    for name in ("vae", "transformer", "text_encoder", "judge", "hypernet"):
        assert f"{name}" in models and "REFUSED" not in models, models

    # A reference made here, predicted with the wheel's committed hypernetwork.
    _run(
        [str(py), "-c", "from v2l.video.sample import write_sample; write_sample('.', 'astronaut', 9, 48)"],
        cwd=work,
        env=env,
    )
    ref = next(work.glob("*.mp4"))
    out = _run(
        [str(py), "-m", "v2l.cli.main", "predict", "--reference", str(ref), "--out", "lora.safetensors"],
        cwd=work,
        env=env,
    )
    assert "wrote compact LoRA" in out and (work / "lora.safetensors").stat().st_size > 0
    # The shipped configs resolve by name from any folder.
    _run(
        [str(py), "-c", "from v2l.training.config import load_config; print(load_config('tiny').name)"],
        cwd=work,
        env=env,
    )
