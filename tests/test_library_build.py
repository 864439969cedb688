"""LoRA library builds on a real local Ray (Ray Data map tasks + actor pool), real mp4s, real files."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from v2l.video.sample import write_sample

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def ray_local():
    import ray

    from v2l.ray_cluster import connect

    assert not ray.is_initialized(), "an earlier test left Ray running in this process"
    connect(num_cpus=3)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def model():
    from v2l.model import default_model

    return default_model()


def _folder(root: Path) -> Path:
    """2 unique references, 2 duplicates (one in a subfolder), a corrupt mp4, a non-video, a labels file."""
    refs = root / "refs"
    a, _ = write_sample(refs, "astronaut")
    b, _ = write_sample(refs, "coffee")
    for png in refs.glob("*.png"):
        png.unlink()
    shutil.copy(a, refs / "again.mp4")
    (refs / "sub").mkdir()
    shutil.copy(b, refs / "sub" / "coffee_copy.mp4")
    data = b.read_bytes()
    (refs / "broken.mp4").write_bytes(data[: len(data) // 2])
    (refs / "notes.txt").write_text("not a video")
    (refs / "labels.csv").write_text("path,semantic\nastronaut_pan.mp4,pan_right\n")
    return refs


def _cfg(refs, out, workers=1, formats=("compact", "diffusers", "kohya"), **kw):
    from v2l.library.config import LibraryBuildConfig

    return LibraryBuildConfig(references=refs, out=out, formats=list(formats), workers=workers, batch=2, **kw)


def _lora_files(lib: Path) -> dict[str, bytes]:
    return {str(p.relative_to(lib)): p.read_bytes() for p in sorted((lib / "loras").rglob("*.safetensors"))}


def test_build_rerun_repair_and_actor_count(tmp_path, ray_local, model):
    import pyarrow.parquet as pq
    import torch

    from v2l.data.curation.quarantine import read_quarantine
    from v2l.inference.predict import predict_lora, write_lora
    from v2l.library.ray_build import build
    from v2l.lora.files import check_compatible, load_compact, load_standard
    from v2l.video.io import file_sha256

    refs = _folder(tmp_path)
    lib = tmp_path / "lib"
    first = build(_cfg(refs, lib), progress=False)
    c = first.counts
    assert (c["inputs"], c["built"], c["duplicates"], c["skipped"], c["quarantined"]) == (6, 2, 2, 0, 2)
    assert c["inputs"] == c["built"] + c["duplicates"] + c["skipped"] + c["quarantined"]

    rows = {r["reference_sha256"]: r for r in pq.read_table(lib / "index.parquet").to_pylist()}
    assert set(rows) == {file_sha256(refs / "astronaut_pan.mp4"), file_sha256(refs / "coffee_pan.mp4")}
    astro = rows[file_sha256(refs / "astronaut_pan.mp4")]
    assert astro["label"] == "pan_right" and sorted(Path(p).name for p in astro["inputs"]) == [
        "again.mp4",
        "astronaut_pan.mp4",
    ]
    assert astro["source_frames"] == 9 and (astro["width"], astro["height"], astro["fps"]) == (48, 48, 8.0)
    assert astro["hypernet_sha256"] == model.version() and astro["backbone"] == "tiny" and astro["seconds"] > 0
    for row in rows.values():
        for fmt in ("compact", "diffusers", "kohya"):
            path = lib / row[f"{fmt}_path"]
            assert file_sha256(path) == row[f"{fmt}_sha256"] and path.stat().st_size == row[f"{fmt}_bytes"]
        lora = load_compact(lib / row["compact_path"])
        check_compatible(lora, model)
        assert lora.metadata["reference_sha256"] == row["reference_sha256"]
        assert len(load_standard(lib / row["diffusers_path"])) == len(model.network)
        assert len(load_standard(lib / row["kohya_path"])) == len(model.network)
    # A library LoRA is what `v2l predict` writes for the same file: the same metadata and the same numbers, up to
    # one bf16 step (a Ray worker is another process, whose last fp32 bit may round the other way on some CPUs).
    single = load_compact(
        write_lora(tmp_path / "single.safetensors", predict_lora(model, refs / "astronaut_pan.mp4"), model)
    )
    built = load_compact(lib / astro["compact_path"])
    assert built.metadata == single.metadata
    for got, want in ((built.A_pred, single.A_pred), (built.B_pred, single.B_pred)):
        torch.testing.assert_close(got.float(), want.float(), rtol=2**-7, atol=1e-30)

    rejected = {Path(r.input).name: r.reason for r in read_quarantine(lib / "quarantine.jsonl")}
    assert rejected == {"broken.mp4": "unreadable", "notes.txt": "unsupported_type"}

    # A re-run builds nothing: the same totals, no LoRA file or index touched.
    mtimes = {p: p.stat().st_mtime_ns for p in [*(lib / "loras").rglob("*.safetensors"), lib / "index.parquet"]}
    totals = __import__("json").loads((lib / "library.json").read_text())["totals"]
    again = build(_cfg(refs, lib), progress=False).counts
    assert (again["inputs"], again["built"], again["duplicates"], again["skipped"], again["quarantined"]) == (
        6,
        0,
        2,
        2,
        2,
    )
    assert again["verified"] == 6 and again["files_written"] == 0
    assert {p: p.stat().st_mtime_ns for p in mtimes} == mtimes
    assert __import__("json").loads((lib / "library.json").read_text())["totals"] == totals

    # A file that fails its hash is rebuilt (to the same bytes) and reported.
    before = _lora_files(lib)
    victim = lib / astro["diffusers_path"]
    victim.write_bytes(victim.read_bytes()[:-8] + b"\0" * 8)
    repaired = build(_cfg(refs, lib), progress=False)
    assert repaired.repaired == [astro["diffusers_path"]] and repaired.counts["built"] == 1
    assert astro["diffusers_path"] in repaired.summary()
    assert _lora_files(lib) == before

    # Two actors write the same bytes as one.
    two = build(_cfg(refs, tmp_path / "lib2", workers=2), progress=False)
    assert two.counts["built"] == 2
    assert _lora_files(tmp_path / "lib2") == before


def test_reference_sampling_travels_to_the_ray_decode_and_is_part_of_the_library(tmp_path, ray_local, model):
    """`reference: {window: whole}` reaches the Ray Data decode tasks: the entry is `v2l predict --window whole`'s
    LoRA (not the default window's), library.json records it, a re-run with other options is refused, and
    `library search` samples the query the library's way (the same clip finds itself at cosine 1)."""
    from v2l.inference.predict import predict_lora, write_lora
    from v2l.library.index import LibraryError
    from v2l.library.ray_build import build
    from v2l.library.search import search
    from v2l.video.io import write_video
    from v2l.video.reference_sampling import ReferenceSampling
    from v2l.video.sample import pan_clip

    refs = tmp_path / "refs"
    clip = write_video(refs / "long.mp4", pan_clip("rocket", frames=72, size=48, step=2), fps=24)  # 3 s
    lib = tmp_path / "lib"
    whole = ReferenceSampling(window="whole")
    build(_cfg(refs, lib, formats=("compact",), reference=whole), progress=False)
    entry = next(lib.glob("loras/*/*.compact.safetensors")).read_bytes()
    as_whole = write_lora(tmp_path / "whole.safetensors", predict_lora(model, clip, sampling=whole), model)
    as_default = write_lora(tmp_path / "default.safetensors", predict_lora(model, clip), model)
    assert entry == as_whole.read_bytes() and entry != as_default.read_bytes()
    info = __import__("json").loads((lib / "library.json").read_text())
    assert info["reference_sampling"] == {"start": None, "fps": None, "window": "whole"}
    with pytest.raises(LibraryError, match="--window whole"):
        build(_cfg(refs, lib, formats=("compact",)), progress=False)
    assert search(lib, clip, k=1, model=model)[0]["cosine"] > 0.99999


def test_library_refuses_another_hypernetwork(tmp_path, ray_local, model):
    from v2l.errors import V2LError
    from v2l.library.ray_build import build

    refs = tmp_path / "refs"
    write_sample(refs, "astronaut")
    (refs / "astronaut_first.png").unlink()
    lib = tmp_path / "lib"
    build(_cfg(refs, lib, formats=["compact"]), progress=False)
    other = tmp_path / "other"
    default_version = model.version()
    import torch

    weight = next(model.hypernet.parameters())
    original = weight.detach().clone()
    with torch.no_grad():  # another version of the same architecture, saved as a checkpoint
        weight.add_(1e-3)
        model.save(other)
        weight.copy_(original)  # (w + d) - d is not w in floating point; later tests share this model
    assert model.version() == default_version
    with pytest.raises(V2LError, match="holds LoRAs of hypernetwork .* new --out folder"):
        build(_cfg(refs, lib, formats=["compact"], checkpoint=other), progress=False)


def test_killed_build_leaves_no_partial_file_and_rerun_completes(tmp_path, ray_local):
    from v2l.library.ray_build import build
    from v2l.lora.files import load_compact
    from v2l.video.io import write_video
    from v2l.video.sample import pan_clip

    refs = tmp_path / "refs"
    names = [
        "astronaut",
        "brick",
        "camera",
        "cell",
        "chelsea",
        "coffee",
        "coins",
        "grass",
        "gravel",
        "horse",
        "rocket",
        "clock",
    ]
    for name in names:
        write_video(refs / f"{name}.mp4", pan_clip(name))
    lib = tmp_path / "lib"
    cfg = tmp_path / "build.yaml"
    cfg.write_text(f"references: {refs}\nout: {lib}\nformats: [compact, kohya]\nworkers: 1\nbatch: 1\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipelines.build_library", str(cfg)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 240
        while not list((lib / "loras").rglob("*.compact.safetensors")) and time.monotonic() < deadline:
            assert proc.poll() is None, "the build finished or failed before any file appeared"
            time.sleep(0.02)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the job and the Ray processes it started, nothing else
        proc.wait()
    visible = [p for p in (lib / "loras").rglob("*") if p.is_file() and not p.name.startswith(".")]
    assert 0 < len(visible) < 2 * len(names), "the kill should land mid-way"
    for path in visible:  # every visible file is complete
        if path.name.endswith(".compact.safetensors"):
            load_compact(path)
        else:
            assert path.stat().st_size > 0 and __import__("safetensors").safe_open(str(path), "pt").keys()

    result = build(_cfg(refs, lib, formats=["compact", "kohya"]), progress=False)
    c = result.counts
    assert c["built"] + c["skipped"] == len(names) and c["quarantined"] == 0 and c["built"] > 0
    assert len(_lora_files(lib)) == 2 * len(names)
    assert not [p for p in (lib / "loras").rglob(".tmp-*")]


def test_cli_build_and_ls(tmp_path):
    """`v2l library build` then `v2l library ls` (summary table and --json), in a fresh process."""
    import json

    refs = _folder(tmp_path)
    lib = tmp_path / "lib"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    v2l = [sys.executable, "-m", "v2l.cli.main"]
    run = subprocess.run(
        [*v2l, "library", "build", "--references", str(refs), "--out", str(lib)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    assert "inputs 6 = built 2 + duplicates 2 + skipped (already built) 0 + quarantined 2" in run.stdout
    assert "building LoRAs" in run.stderr  # the progress bar
    ls = subprocess.run([*v2l, "library", "ls", str(lib)], env=env, capture_output=True, text=True, timeout=120)
    assert ls.returncode == 0 and "2 unique references from 4 inputs, 1 labelled" in ls.stdout
    assert "pan_right" in ls.stdout
    data = json.loads(
        subprocess.run(
            [*v2l, "library", "ls", str(lib), "--json"], env=env, capture_output=True, text=True, timeout=120
        ).stdout
    )
    assert data["library"]["totals"]["files"]["compact"] == 2 and len(data["entries"]) == 2
    bad = subprocess.run([*v2l, "library", "ls", str(refs)], env=env, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and bad.stderr.startswith("error:") and "not a LoRA library" in bad.stderr


def test_search_finds_the_nearest_codes_with_labels(tmp_path, model):
    """Built in-process (the same row functions as the Ray job); a copy of a reference finds itself first."""
    import json

    from typer.testing import CliRunner

    from v2l.cli.main import app
    from v2l.library.build import build_library, local_executor
    from v2l.library.search import search
    from v2l.library.writer import LoRAWriter
    from v2l.video.io import write_video
    from v2l.video.sample import pan_clip

    refs = tmp_path / "refs"
    for name in ("astronaut", "coffee", "rocket"):
        write_video(refs / f"{name}.mp4", pan_clip(name))
    (refs / "labels.csv").write_text("path,semantic\nastronaut.mp4,pan_a\ncoffee.mp4,pan_c\nrocket.mp4,pan_r\n")
    lib = tmp_path / "lib"
    build_library(refs, lib, model, local_executor(LoRAWriter(lib, model=model)), "compact", progress=False)
    query = tmp_path / "query.mp4"
    shutil.copy(refs / "coffee.mp4", query)
    hits = search(lib, query, k=2, model=model)
    assert len(hits) == 2 and hits[0]["label"] == "pan_c" and hits[0]["cosine"] > 0.99999
    assert hits[1]["cosine"] < hits[0]["cosine"]
    shown = CliRunner().invoke(app, ["library", "search", str(lib), "--like", str(query), "--k", "3", "--json"])
    assert shown.exit_code == 0, shown.output
    rows = json.loads(shown.stdout)
    assert [r["label"] for r in rows][0] == "pan_c" and len(rows) == 3


def test_results_stream_back_while_the_build_runs(tmp_path, ray_local):
    """The driver gets each reference's result while later ones are still being written (the progress bar and the
    periodic index depend on it): at the first result, the actor has not yet written every file."""
    from v2l.library.inputs import list_inputs
    from v2l.library.ray_build import ray_executor
    from v2l.video.io import write_video
    from v2l.video.sample import pan_clip

    refs = tmp_path / "refs"
    names = ["astronaut", "brick", "camera", "cell", "chelsea", "coffee", "coins", "grass", "gravel", "horse"]
    for name in names:
        write_video(refs / f"{name}.mp4", pan_clip(name))
    rows = [
        {"sha256": i.sha256, "name": i.name, "path": i.path, "data": b"", "formats": "compact"}
        for i in list_inputs(refs)[0]
    ]
    lib = tmp_path / "lib"
    seen = []
    for result in ray_executor(_cfg(refs, lib, formats=["compact"]))(rows, "tiny"):
        seen.append(len(list((lib / "loras").rglob("*.compact.safetensors"))))
    assert len(seen) == len(names)
    assert seen[0] < len(names), f"the first result came back only after all {len(names)} files were written"
