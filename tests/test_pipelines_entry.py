"""Every `python -m pipelines.<job>` parses CONFIG + `--set KEY=VALUE` the same way; the library never imports them."""

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from pipelines.entry import parse_sets
from v2l.errors import V2LError

ROOT = Path(__file__).resolve().parents[1]
JOBS = ("train_hypernet", "train_per_condition", "build_library", "evaluate", "build_corpus")


def test_set_pairs_become_nested_yaml_values():
    assert parse_sets(["optim.lr=0.001", "workers=2", "semantics=[pan_left, melt]", "out=runs/x", "name="]) == {
        "optim": {"lr": 0.001},
        "workers": 2,
        "semantics": ["pan_left", "melt"],
        "out": "runs/x",
        "name": None,
    }
    with pytest.raises(V2LError, match="KEY=VALUE"):
        parse_sets(["workers"])
    with pytest.raises(V2LError, match="both as a value and as a mapping"):
        parse_sets(["ray=1", "ray.workers=2"])


def test_set_merges_into_a_nested_section_of_the_file(tmp_path):
    from v2l.training.config import load_config

    cfg = load_config(ROOT / "pipelines/configs/tiny.yaml", **parse_sets(["optim.lr=1.25e-1", "ray.workers=3"]))
    shipped = load_config(ROOT / "pipelines/configs/tiny.yaml")
    assert cfg.optim.lr == 0.125 and cfg.ray.workers == 3
    # the rest of each section is the file's, not the model's defaults
    assert cfg.optim.model_copy(update={"lr": shipped.optim.lr}) == shipped.optim
    assert cfg.ray.model_copy(update={"workers": shipped.ray.workers}) == shipped.ray


@pytest.mark.parametrize("job", JOBS)
def test_every_entry_point_has_the_same_help(job):
    out = subprocess.run(
        [sys.executable, "-m", f"pipelines.{job}", "--help"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith(f"usage: python -m pipelines.{job} [-h] [--set KEY=VALUE] config")


def test_build_corpus_entry_point_builds_and_refuses_bad_input(tmp_path):
    def run(*sets):
        args = [sys.executable, "-m", "pipelines.build_corpus", str(ROOT / "pipelines/configs/data_tiny.yaml")]
        return subprocess.run(
            args + [a for s in sets for a in ("--set", s)], cwd=tmp_path, capture_output=True, text=True, timeout=600
        )

    small = (
        "pairs_per_semantic=1",
        "eval_pairs_per_semantic=1",
        "photos=false",
        "procedural=6",
        "frames=1",
        "height=16",
        "width=16",
        "content_size=32",
    )
    bad = run(f"out={tmp_path / 'bad'}", "pairs_per_semantic=x")
    assert bad.returncode == 2 and "pairs_per_semantic" in bad.stderr and "'x'" in bad.stderr
    assert not (tmp_path / "bad" / "manifest.json").exists(), "refused before anything was written"
    ok = run(f"out={tmp_path / 'corpus'}", *small)
    assert ok.returncode == 0, ok.stderr
    manifest = json.loads((tmp_path / "corpus" / "manifest.json").read_text())
    assert manifest["config"]["frames"] == 1 and manifest["config"]["height"] == 16
    assert sorted((tmp_path / "corpus").rglob("*.tar")), "shards were written"


def test_the_library_never_imports_pipelines():
    offenders = []
    for path in (ROOT / "v2l").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else ([node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            )
            offenders += [f"{path.relative_to(ROOT)}: {n}" for n in names if n.split(".")[0] == "pipelines"]
    assert offenders == []
