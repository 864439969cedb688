"""Hostile input on every command: each case must end with exit code 2, exactly one `error:` line that names the
input, no traceback, and nothing written. Bytes that are not UTF-8 go through a real subprocess (argv bytes reach
Python as lone surrogates); the rest run in-process through typer's CliRunner, which shows the same.

The four `hole*` cases each failed before their fix: `--scale nan` wrote a video (exit 0), a non-UTF-8 prompt ended
in a traceback (exit 1), a compact LoRA with a NaN in `B_pred` generated (exit 0), and `v2l data verify` said ok
for a shard holding `../../evil.json` once the manifest hash matched (exit 0).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pytest
from safetensors.torch import load_file, save_file
from typer.testing import CliRunner

from v2l.cli.main import app

runner = CliRunner()


# -- inputs shared by the cases (built once) ---------------------------------------------------------
@dataclass
class Assets:
    root: Path
    ref: Path
    image: Path
    lora: Path  # a valid compact LoRA of the committed hypernetwork
    corpus: Path  # a small real corpus
    hypernet: Path  # the committed hypernetwork checkpoint folder
    kohya: Path  # the same LoRA as a kohya/ComfyUI export
    library: Path  # a one-entry LoRA library (compact) built from `ref`


@pytest.fixture(scope="module")
def assets(tmp_path_factory) -> Assets:
    from v2l.backbones import get_spec
    from v2l.backbones.tiny import TINY_WEIGHTS
    from v2l.data.build import build_corpus
    from v2l.inference.predict import predict_lora, write_lora
    from v2l.model import default_model
    from v2l.video.sample import write_sample

    root = tmp_path_factory.mktemp("hostile-assets")
    spec = get_spec("tiny")
    ref, _ = write_sample(root, "astronaut", spec.num_frames, spec.height)
    _, image = write_sample(root, "coffee", spec.num_frames, spec.height)
    model = default_model()
    predicted = predict_lora(model, ref)
    lora = write_lora(root / "good.safetensors", predicted, model, "compact")
    kohya = write_lora(root / "good-kohya.safetensors", predicted, model, "kohya")
    from v2l.library.build import build_library, local_executor
    from v2l.library.writer import LoRAWriter

    (root / "refs").mkdir()
    shutil.copy(ref, root / "refs" / "ref.mp4")
    build_library(
        root / "refs",
        root / "library",
        model,
        local_executor(LoRAWriter(root / "library", model=model)),
        "compact",
        progress=False,
    )
    build_corpus(
        root / "corpus",
        [],
        pairs_per_semantic=1,
        size=(16, 16),
        frames=1,
        eval_pairs_per_semantic=1,
        procedural=8,
        photos=False,
        shard_samples=50,
    )
    return Assets(root, ref, image, lora, root / "corpus", TINY_WEIGHTS / "hypernet", kohya, root / "library")


# -- hostile files, each made in the case's own folder -------------------------------------------------
def lora_with(assets: Assets, d: Path, tensor: str, value: float) -> Path:
    """The valid compact LoRA with one non-finite number written into `tensor`, metadata unchanged."""
    from safetensors import safe_open

    with safe_open(str(assets.lora), "pt") as f:
        meta = f.metadata()
    tensors = load_file(str(assets.lora))
    tensors[tensor] = tensors[tensor].clone()
    tensors[tensor].view(-1)[7] = value
    save_file(tensors, str(d / f"{tensor}.safetensors"), metadata=meta)
    return d / f"{tensor}.safetensors"


def kohya_with(assets: Assets, d: Path, value: float | None = None, modules: list | None = None) -> Path:
    """The kohya export with one non-finite number in its first `lora_up`, or another module list."""
    from safetensors import safe_open

    with safe_open(str(assets.kohya), "pt") as f:
        meta = dict(f.metadata())
    tensors = load_file(str(assets.kohya))
    if value is not None:
        key = sorted(k for k in tensors if k.endswith(".lora_up.weight"))[0]
        tensors[key] = tensors[key].clone()
        tensors[key].view(-1)[0] = value
    if modules is not None:
        meta["modules"] = json.dumps(modules)
    save_file(tensors, str(d / "k.safetensors"), metadata=meta)
    return d / "k.safetensors"


def library_copy(assets: Assets, d: Path) -> Path:
    out = d / "lib"
    shutil.copytree(assets.library, out, symlinks=True)
    return out


def library_entry(lib: Path) -> Path:
    return next(lib.glob("loras/*/*.compact.safetensors"))


def library_entry_outside(assets: Assets, d: Path) -> Path:
    """The entry's compact file moved out of the library and linked back: same bytes, same sha256."""
    lib = library_copy(assets, d)
    entry = library_entry(lib)
    shutil.move(entry, d / "elsewhere.safetensors")
    os.symlink(d / "elsewhere.safetensors", entry)
    return lib


def library_index_escaping(assets: Assets, d: Path) -> Path:
    import pyarrow.parquet as pq

    lib = library_copy(assets, d)
    table = pq.read_table(lib / "index.parquet")
    rows = table.to_pylist()
    shutil.copy(library_entry(lib), d / "stolen.safetensors")
    rows[0]["compact_path"] = "../stolen.safetensors"
    pq.write_table(type(table).from_pylist(rows, schema=table.schema), lib / "index.parquet")
    return lib


def library_entry_nan(assets: Assets, d: Path) -> Path:
    lib = library_copy(assets, d)
    entry = library_entry(lib)
    tensors = load_file(str(entry))
    from safetensors import safe_open

    with safe_open(str(entry), "pt") as f:
        meta = f.metadata()
    tensors["B_pred"] = tensors["B_pred"].clone()
    tensors["B_pred"].view(-1)[3] = float("nan")
    save_file(tensors, str(entry), metadata=meta)
    return lib


def refs_with_labels(assets: Assets, d: Path, labels: bytes) -> Path:
    (d / "refs").mkdir()
    shutil.copy(assets.ref, d / "refs" / "ref.mp4")
    (d / "refs" / "labels.csv").write_bytes(labels)
    return d / "refs"


def checkpoint_with_nan(assets: Assets, d: Path) -> Path:
    ckpt = d / "ckpt"
    ckpt.mkdir()
    shutil.copy(assets.hypernet / "config.json", ckpt / "config.json")
    tensors = load_file(str(assets.hypernet / "model.safetensors"))
    name = sorted(tensors)[3]
    tensors[name] = tensors[name].clone()
    tensors[name].view(-1)[0] = float("nan")
    save_file(tensors, str(ckpt / "model.safetensors"))
    return ckpt


def file_of(d: Path, name: str, data: bytes) -> Path:
    (d / name).write_bytes(data)
    return d / name


def truncated(src: Path, d: Path) -> Path:
    data = src.read_bytes()
    return file_of(d, "cut" + src.suffix, data[: len(data) // 2])


def corpus_copy(assets: Assets, d: Path) -> Path:
    out = d / "corpus"
    shutil.copytree(assets.corpus, out)
    return out


def rehash(corpus: Path, entry: dict) -> None:
    """Make the manifest agree with a tampered shard, as an attacker who can write both would."""
    manifest = json.loads((corpus / "manifest.json").read_text())
    for e in manifest["shards"]:
        if e["file"] == entry["file"]:
            e["sha256"] = hashlib.sha256((corpus / e["file"]).read_bytes()).hexdigest()
    (corpus / "manifest.json").write_text(json.dumps(manifest))


def shard_with_member(assets: Assets, d: Path, name: str, kind: bytes = tarfile.REGTYPE) -> Path:
    corpus = corpus_copy(assets, d)
    entry = json.loads((corpus / "manifest.json").read_text())["shards"][0]
    with tarfile.open(corpus / entry["file"], "a") as tar:
        info = tarfile.TarInfo(name)
        info.type = kind
        payload = b'{"owned": true}'
        if kind == tarfile.SYMTYPE:
            info.linkname = "/etc/passwd"
            tar.addfile(info)
        else:
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
    rehash(corpus, entry)
    return corpus


def shard_symlinked_outside(assets: Assets, d: Path) -> Path:
    corpus = corpus_copy(assets, d)
    entry = json.loads((corpus / "manifest.json").read_text())["shards"][0]
    outside = d / "elsewhere.tar"
    shutil.move(corpus / entry["file"], outside)
    os.symlink(outside, corpus / entry["file"])  # same bytes, so the hash still matches
    return corpus


def manifest_escaping(assets: Assets, d: Path) -> Path:
    corpus = corpus_copy(assets, d)
    manifest = json.loads((corpus / "manifest.json").read_text())
    e = manifest["shards"][0]
    shutil.copy(corpus / e["file"], d / "stolen.tar")
    e["file"] = "../stolen.tar"
    (corpus / "manifest.json").write_text(json.dumps(manifest))
    return corpus


# -- the table ----------------------------------------------------------------------------------------
@dataclass
class Case:
    id: str
    argv: Callable[[Assets, Path], list]  # (assets, the case's folder) -> arguments after `v2l`
    names: str  # the error line must contain this (the input it refuses)
    process: bool = False  # run as a real subprocess (argv bytes)
    also: tuple[str, ...] = field(default=())  # further words the error line must hold


def gen(*extra):
    return lambda a, d: [
        "generate",
        "--reference",
        a.ref,
        "--image",
        a.image,
        "--prompt",
        "a cup of coffee",
        "--out",
        d / "out" / "o.mp4",
        "--steps",
        "1",
        *extra,
    ]


def gen_lora(make):
    return lambda a, d: [
        "generate",
        "--lora",
        make(a, d),
        "--image",
        a.image,
        "--prompt",
        "a cup of coffee",
        "--out",
        d / "out" / "o.mp4",
        "--steps",
        "1",
    ]


def pred(*extra, reference=None):
    return lambda a, d: [
        "predict",
        "--reference",
        reference(a, d) if reference else a.ref,
        "--out",
        d / "out" / "l.safetensors",
        *extra,
    ]


def build(*extra):
    return lambda a, d: ["data", "build", "--out", d / "out", "--no-photos", "--procedural", "2", *extra]


def lib_build(*extra):
    return lambda a, d: ["library", "build", "--references", a.root / "refs", "--out", d / "out", *extra]


def ev(*extra):
    return lambda a, d: ["eval", "--split", "seen", "--out", d / "out", *extra]


def search(lib, *extra, like=None):
    return lambda a, d: ["library", "search", lib(a, d), "--like", like(a, d) if like else a.ref, *extra]


NOT_UTF8 = b"a cup \xff\xfe of coffee"
PNG_BYTES = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\xff\xfe\x00"

CASES = [
    # bad numbers
    Case("hole1-generate-scale-nan", gen("--scale", "nan"), "--scale", also=("finite",)),
    Case("generate-scale-inf", gen("--scale", "inf"), "--scale"),
    Case("generate-scale-huge", gen("--scale", "-1e9"), "--scale"),
    Case("generate-steps-negative", gen("--steps", "-1"), "--steps"),
    Case("generate-steps-zero", gen("--steps", "0"), "--steps"),
    Case("generate-seed-1e30", gen("--seed", "1e30"), "--seed"),
    Case("generate-seed-negative", gen("--seed", "-5"), "--seed"),
    Case("generate-frames-10e9", gen("--frames", str(10**9)), "--frames"),
    Case("generate-frames-not-8k+1", gen("--frames", "13"), "--frames", also=("8k+1",)),
    Case("generate-guidance-inf", gen("--guidance", "inf"), "--guidance"),
    Case("generate-guidance-nan", gen("--guidance", "nan"), "--guidance"),
    Case("data-build-frames-negative", build("--frames", "-3"), "--frames"),
    Case("data-build-fps-zero", build("--fps", "0"), "--fps"),
    Case("data-build-pairs-huge", build("--pairs-per-semantic", str(10**9)), "--pairs-per-semantic"),
    Case("data-build-seed-nan", build("--seed", "nan"), "--seed"),
    Case("data-build-shard-samples-zero", build("--shard-samples", "0"), "--shard-samples"),
    Case("data-build-size-huge", build("--size", "100000x100000"), "--size"),
    Case("train-max-steps-zero", lambda a, d: ["train", "--max-steps", "0"], "--max-steps"),
    Case("train-workers-negative", lambda a, d: ["train", "--workers", "-2"], "--workers"),
    Case("train-workers-huge", lambda a, d: ["train", "--workers", "100000"], "--workers"),
    Case(
        "evaluate-steer-minutes-nan",
        lambda a, d: ["evaluate", "steer", "--minutes", "nan", "--out", d / "out"],
        "--minutes",
    ),
    Case(
        "evaluate-steer-check-every-zero",
        lambda a, d: ["evaluate", "steer", "--check-every", "0", "--out", d / "out"],
        "--check-every",
    ),
    Case("evaluate-hypernet-steps-huge", lambda a, d: ["evaluate", "hypernet", "--steps", "100000"], "--steps"),
    Case(
        "evaluate-world-per-semantic-negative",
        lambda a, d: ["evaluate", "world", "--per-semantic", "-1"],
        "--per-semantic",
    ),
    Case(
        "evaluate-judge-per-semantic-zero", lambda a, d: ["evaluate", "judge", "--per-semantic", "0"], "--per-semantic"
    ),
    Case(
        "pretrain-vae-minutes-inf",
        lambda a, d: ["pretrain", "vae", "--out", d / "out", "--minutes", "inf"],
        "--minutes",
    ),
    Case(
        "pretrain-clip-threads-zero",
        lambda a, d: ["pretrain", "clip", "--out", d / "out", "--threads", "0"],
        "--threads",
    ),
    Case(
        "pretrain-backbone-max-steps-negative",
        lambda a, d: ["pretrain", "backbone", "--out", d / "out", "--max-steps", "-1"],
        "--max-steps",
    ),
    Case(
        "demo-train-steps-negative", lambda a, d: ["demo", "--out", d / "out", "--train-steps", "-1"], "--train-steps"
    ),
    Case("demo-steps-nan", lambda a, d: ["demo", "--out", d / "out", "--steps", "nan"], "--steps"),
    # bad text
    Case(
        "hole2-generate-prompt-not-utf8",
        lambda a, d: [
            "generate",
            "--reference",
            a.ref,
            "--image",
            a.image,
            "--prompt",
            NOT_UTF8,
            "--out",
            d / "out" / "o.mp4",
            "--steps",
            "1",
        ],
        "--prompt",
        process=True,
        also=("UTF-8",),
    ),
    Case(
        "generate-prompt-control-char",
        lambda a, d: [
            "generate",
            "--reference",
            a.ref,
            "--image",
            a.image,
            "--prompt",
            "a cup\x1b[2J of coffee",
            "--out",
            d / "out" / "o.mp4",
        ],
        "--prompt",
        also=("control character",),
    ),
    Case(
        "generate-prompt-100kB",
        lambda a, d: [
            "generate",
            "--reference",
            a.ref,
            "--image",
            a.image,
            "--prompt",
            "coffee " * 14_300,
            "--out",
            d / "out" / "o.mp4",
        ],
        "--prompt",
        also=("limit",),
    ),
    Case(
        "data-semantics-heldout-not-utf8",
        lambda a, d: ["data", "semantics", "--heldout", b"pan_\xc3"],
        "--heldout",
        process=True,
    ),
    Case(
        "data-build-content-not-utf8",
        lambda a, d: ["data", "build", "--out", d / "out", "--content", b"/tmp/\xff\xff"],
        "--content",
        process=True,
    ),
    Case("data-build-size-newline", build("--size", "48x48\n"), "--size"),
    Case("data-build-heldout-100kB", build("--heldout", "x" * 100_000), "--heldout", also=("limit",)),
    Case("info-preset-bell", lambda a, d: ["info", "--preset", "tiny\x07"], "--preset"),
    Case(
        "evaluate-hypernet-notes-escape",
        lambda a, d: ["evaluate", "hypernet", "--notes", "ok\x1b]0;pwned\x07"],
        "--notes",
    ),
    Case(
        "content-fetch-package-control",
        lambda a, d: ["content", "fetch", "--dest", d / "out", "--package", "x\ry"],
        "--package",
    ),
    Case("models-unknown-option", lambda a, d: ["models", "--everything"], "--everything"),
    # bad files
    Case(
        "hole3-generate-lora-nan-B_pred",
        gen_lora(lambda a, d: lora_with(a, d, "B_pred", float("nan"))),
        "B_pred",
        also=("non-finite",),
    ),
    Case("generate-lora-inf-A_pred", gen_lora(lambda a, d: lora_with(a, d, "A_pred", float("inf"))), "A_pred"),
    Case("generate-lora-empty", gen_lora(lambda a, d: file_of(d, "e.safetensors", b"")), "e.safetensors"),
    Case("generate-lora-truncated", gen_lora(lambda a, d: truncated(a.lora, d)), "cut.safetensors"),
    Case(
        "generate-lora-text-file",
        gen_lora(lambda a, d: file_of(d, "t.safetensors", b"hello, world\n" * 9)),
        "t.safetensors",
    ),
    Case(
        "generate-lora-huge-header",
        gen_lora(lambda a, d: file_of(d, "h.safetensors", (2**62).to_bytes(8, "little") + b"{}")),
        "h.safetensors",
    ),
    Case("generate-lora-directory", gen_lora(lambda a, d: d), "is a folder, not a file"),
    Case(
        "generate-image-text",
        lambda a, d: [
            "generate",
            "--reference",
            a.ref,
            "--image",
            file_of(d, "i.png", b"not a png"),
            "--prompt",
            "x",
            "--out",
            d / "out" / "o.mp4",
        ],
        "i.png",
    ),
    Case("predict-reference-empty", pred(reference=lambda a, d: file_of(d, "e.mp4", b"")), "e.mp4"),
    Case("predict-reference-truncated", pred(reference=lambda a, d: truncated(a.ref, d)), "cut.mp4"),
    Case(
        "predict-checkpoint-nan",
        lambda a, d: [
            "predict",
            "--reference",
            a.ref,
            "--out",
            d / "out" / "l.st",
            "--checkpoint",
            checkpoint_with_nan(a, d),
        ],
        "model.safetensors",
        also=("non-finite",),
    ),
    Case(
        "predict-checkpoint-empty-dir",
        lambda a, d: ["predict", "--reference", a.ref, "--out", d / "out" / "l.st", "--checkpoint", d],
        "not a v2l checkpoint",
    ),
    Case(
        "predict-checkpoint-bad-config",
        lambda a, d: [
            "predict",
            "--reference",
            a.ref,
            "--out",
            d / "out" / "l.st",
            "--checkpoint",
            (lambda c: (shutil.copytree(a.hypernet, c), (c / "config.json").write_text("{not json"), c)[2])(d / "ck"),
        ],
        "config.json",
    ),
    Case(
        "hole4-verify-member-dot-dot",
        lambda a, d: ["data", "verify", shard_with_member(a, d, "../../evil.json")],
        "../../evil.json",
        also=("corrupt",),
    ),
    Case(
        "verify-member-absolute",
        lambda a, d: ["data", "verify", shard_with_member(a, d, "/etc/evil.json")],
        "/etc/evil.json",
    ),
    Case("verify-member-no-key", lambda a, d: ["data", "verify", shard_with_member(a, d, ".json")], "'.json'"),
    Case(
        "verify-member-symlink",
        lambda a, d: ["data", "verify", shard_with_member(a, d, "k9.json", tarfile.SYMTYPE)],
        "symlink",
    ),
    Case(
        "verify-shard-symlink-outside",
        lambda a, d: ["data", "verify", shard_symlinked_outside(a, d)],
        "outside the corpus folder",
    ),
    Case("verify-manifest-path-escape", lambda a, d: ["data", "verify", manifest_escaping(a, d)], "../stolen.tar"),
    Case("verify-no-manifest", lambda a, d: ["data", "verify", d], "manifest.json"),
    # library, eval and lora commands: numbers
    Case("library-build-workers-nan", lib_build("--workers", "nan"), "--workers"),
    Case("library-build-workers-huge", lib_build("--workers", str(10**9)), "--workers"),
    Case("library-build-batch-zero", lib_build("--batch", "0"), "--batch"),
    Case("library-build-batch-inf", lib_build("--batch", "inf"), "--batch"),
    Case("library-build-threads-negative", lib_build("--threads", "-4"), "--threads"),
    Case("library-build-start-inf", lib_build("--start", "inf"), "--start"),
    Case("library-build-fps-zero", lib_build("--fps", "0"), "--fps"),
    Case("library-search-k-nan", search(lambda a, d: a.library, "--k", "nan"), "--k"),
    Case("library-search-k-negative", search(lambda a, d: a.library, "--k", "-3"), "--k"),
    Case("eval-per-semantic-nan", ev("--per-semantic", "nan"), "--per-semantic"),
    Case("eval-per-semantic-negative", ev("--per-semantic", "-1"), "--per-semantic"),
    Case("eval-zeroshot-per-semantic-huge", ev("--zeroshot-per-semantic", str(10**12)), "--zeroshot-per-semantic"),
    Case("eval-workers-negative", ev("--workers", "-1"), "--workers"),
    Case("eval-steps-zero", ev("--steps", "0"), "--steps"),
    Case("eval-threads-inf", ev("--threads", "inf"), "--threads"),
    Case("eval-start-nan", ev("--start", "nan"), "--start"),
    Case("eval-fps-huge", ev("--fps", "1e9"), "--fps"),
    Case(
        "lora-scale-by-nan", lambda a, d: ["lora", "scale", a.lora, "--by", "nan", "--out", d / "o.safetensors"], "--by"
    ),
    Case(
        "lora-scale-by-huge",
        lambda a, d: ["lora", "scale", a.lora, "--by", "1e9", "--out", d / "o.safetensors"],
        "--by",
    ),
    Case(
        "lora-mix-weights-nan",
        lambda a, d: ["lora", "mix", a.lora, a.lora, "--weights", "0.5,nan", "--out", d / "o.safetensors"],
        "--weights",
        also=("item 2",),
    ),
    Case(
        "lora-mix-weights-inf",
        lambda a, d: ["lora", "mix", a.lora, a.lora, "--weights", "inf,1", "--out", d / "o.safetensors"],
        "--weights",
    ),
    Case(
        "lora-mix-weights-huge",
        lambda a, d: ["lora", "mix", a.lora, a.lora, "--weights", "1e300,1", "--out", d / "o.safetensors"],
        "--weights",
    ),
    Case(
        "lora-mix-weights-count",
        lambda a, d: ["lora", "mix", a.lora, a.lora, "--weights", "0.5", "--out", d / "o.safetensors"],
        "--weights",
        also=("one weight",),
    ),
    # library, eval and lora commands: text
    Case(
        "library-build-formats-control",
        lib_build("--formats", "compact\x1b[2J"),
        "--formats",
        also=("control character",),
    ),
    Case("library-build-formats-unknown", lib_build("--formats", "compact,onnx"), "--formats"),
    Case("library-build-window-unknown", lib_build("--window", "sideways"), "--window"),
    Case("library-build-preset-100kB", lib_build("--preset", "t" * 100_000), "--preset", also=("limit",)),
    Case(
        "library-build-formats-not-utf8",
        lambda a, d: [
            "library",
            "build",
            "--references",
            a.root / "refs",
            "--out",
            d / "out",
            "--formats",
            b"compact\xff",
        ],
        "--formats",
        process=True,
        also=("UTF-8",),
    ),
    Case("eval-semantics-control", ev("--semantics", "melt\x00sepia"), "--semantics"),
    Case("eval-split-unknown", ev("--split", "seen,everything"), "--split"),
    Case("eval-clip-model-100kB", ev("--clip-model", "v" * 100_000), "--clip-model", also=("limit",)),
    Case("eval-window-unknown", ev("--window", "loudest"), "--window"),
    Case(
        "eval-model-not-utf8",
        lambda a, d: ["eval", "--out", d / "out", "--model", b"models:/v2l-\xc3"],
        "--model",
        process=True,
    ),
    Case(
        "lora-mix-weights-100kB",
        lambda a, d: ["lora", "mix", a.lora, a.lora, "--weights", "0.5," * 25_000, "--out", d / "o.safetensors"],
        "--weights",
        also=("limit",),
    ),
    Case(
        "lora-mix-weights-words",
        lambda a, d: ["lora", "mix", a.lora, a.lora, "--weights", "half,half", "--out", d / "o.safetensors"],
        "--weights",
    ),
    Case(
        "export-pipeline-preset-escape",
        lambda a, d: ["export-pipeline", d / "out", "--preset", "tiny\x1b[0m"],
        "--preset",
    ),
    # library, eval and lora commands: files
    Case(
        "library-build-labels-binary",
        lambda a, d: ["library", "build", "--references", refs_with_labels(a, d, PNG_BYTES * 20), "--out", d / "out"],
        "labels.csv",
        also=("UTF-8",),
    ),
    Case(
        "library-build-references-empty-folder",
        lambda a, d: ["library", "build", "--references", (d / "none").mkdir() or d / "none", "--out", d / "out"],
        "holds no inputs",
    ),
    Case(
        "library-build-references-missing",
        lambda a, d: ["library", "build", "--references", d / "absent", "--out", d / "out"],
        "absent",
    ),
    Case(
        "library-build-out-not-a-library",
        lambda a, d: [
            "library",
            "build",
            "--references",
            a.root / "refs",
            "--out",
            (file_of(d, "notes.txt", b"mine"), d)[1],
        ],
        "not a LoRA library",
    ),
    Case(
        "library-ls-not-a-library",
        lambda a, d: ["library", "ls", (file_of(d, "x.txt", b"x"), d)[1]],
        "is not a LoRA library",
    ),
    Case(
        "library-ls-info-binary",
        lambda a, d: ["library", "ls", (file_of(d, "library.json", PNG_BYTES), d)[1]],
        "library.json",
        also=("not valid JSON",),
    ),
    Case(
        "library-ls-info-foreign",
        lambda a, d: ["library", "ls", (file_of(d, "library.json", b'{"format": "x"}'), d)[1]],
        "library.json",
    ),
    Case(
        "library-ls-info-incomplete",
        lambda a, d: ["library", "ls", (file_of(d, "library.json", b'{"format": "v2l-library/1"}'), d)[1]],
        "hypernet_sha256",
    ),
    Case("library-search-not-a-library", search(lambda a, d: d), "is not a LoRA library"),
    Case(
        "library-search-like-empty", search(lambda a, d: a.library, like=lambda a, d: file_of(d, "e.mp4", b"")), "e.mp4"
    ),
    Case(
        "library-search-like-truncated",
        search(lambda a, d: a.library, like=lambda a, d: truncated(a.ref, d)),
        "cut.mp4",
    ),
    Case(
        "library-search-like-png",
        search(lambda a, d: a.library, like=lambda a, d: file_of(d, "p.mp4", PNG_BYTES)),
        "p.mp4",
    ),
    Case(
        "library-search-like-directory",
        search(lambda a, d: a.library, like=lambda a, d: d),
        "is a folder",
        also=("pass one video file",),
    ),
    Case("library-search-entry-symlink-outside", search(library_entry_outside), "outside the library"),
    Case("library-search-index-path-escape", search(library_index_escaping), "../stolen.safetensors"),
    Case("library-search-entry-nan", search(library_entry_nan), "B_pred", also=("non-finite",)),
    Case(
        "eval-config-binary",
        lambda a, d: ["eval", "--out", d / "out", "--config", file_of(d, "c.yaml", PNG_BYTES)],
        "c.yaml",
    ),
    Case("eval-config-directory", lambda a, d: ["eval", "--out", d / "out", "--config", d], "--config"),
    Case(
        "eval-config-not-mapping",
        lambda a, d: ["eval", "--out", d / "out", "--config", file_of(d, "l.yaml", b"- seen\n- real\n")],
        "l.yaml",
    ),
    Case(
        "eval-config-unknown-field",
        lambda a, d: ["eval", "--out", d / "out", "--config", file_of(d, "u.yaml", b"stepz: 3\n")],
        "stepz",
    ),
    Case("lora-inspect-empty", lambda a, d: ["lora", "inspect", file_of(d, "e.safetensors", b"")], "e.safetensors"),
    Case("lora-inspect-truncated", lambda a, d: ["lora", "inspect", truncated(a.lora, d)], "cut.safetensors"),
    Case("lora-inspect-png", lambda a, d: ["lora", "inspect", file_of(d, "p.safetensors", PNG_BYTES)], "p.safetensors"),
    Case("lora-inspect-directory", lambda a, d: ["lora", "inspect", d], "is a folder, not a file"),
    Case(
        "lora-inspect-symlink-to-folder",
        lambda a, d: ["lora", "inspect", (os.symlink(d, d / "l.safetensors"), d / "l.safetensors")[1]],
        "l.safetensors",
    ),
    Case(
        "lora-inspect-nan-B_pred",
        lambda a, d: ["lora", "inspect", lora_with(a, d, "B_pred", float("nan"))],
        "B_pred",
        also=("non-finite",),
    ),
    Case(
        "lora-inspect-kohya-inf",
        lambda a, d: ["lora", "inspect", kohya_with(a, d, float("inf"))],
        "lora_up",
        also=("non-finite",),
    ),
    Case(
        "lora-inspect-kohya-foreign-module",
        lambda a, d: ["lora", "inspect", kohya_with(a, d, modules=["patch_embed.proj"])],
        "no ComfyUI CogVideoX name",
    ),
    Case(
        "lora-inspect-kohya-no-module-list",
        lambda a, d: ["lora", "inspect", kohya_with(a, d, modules={"not": "a list"})],
        "no module list",
    ),
    Case(
        "lora-scale-nan-input",
        lambda a, d: [
            "lora",
            "scale",
            lora_with(a, d, "A_pred", float("nan")),
            "--by",
            "2",
            "--out",
            d / "out" / "o.safetensors",
        ],
        "A_pred",
        also=("non-finite",),
    ),
    Case(
        "lora-scale-kohya-inf-input",
        lambda a, d: [
            "lora",
            "scale",
            kohya_with(a, d, float("-inf")),
            "--by",
            "2",
            "--out",
            d / "out" / "o.safetensors",
        ],
        "lora_up",
    ),
    Case(
        "lora-mix-inf-input",
        lambda a, d: [
            "lora",
            "mix",
            a.lora,
            lora_with(a, d, "B_pred", float("inf")),
            "--weights",
            "0.5,0.5",
            "--out",
            d / "out" / "o.safetensors",
        ],
        "B_pred",
    ),
    Case(
        "lora-mix-one-file",
        lambda a, d: ["lora", "mix", a.lora, "--weights", "1", "--out", d / "o.safetensors"],
        "at least two",
    ),
    Case(
        "lora-mix-compact-and-kohya",
        lambda a, d: ["lora", "mix", a.lora, a.kohya, "--weights", "0.5,0.5", "--out", d / "o.safetensors"],
        "cannot mix",
    ),
]


def run_cli(args: list, process: bool) -> tuple[int, str]:
    if process:
        argv = [os.fsencode(a) if isinstance(a, Path) else a for a in args]
        proc = subprocess.run([sys.executable, "-m", "v2l.cli.main", *argv], capture_output=True, timeout=600)
        return proc.returncode, (proc.stdout + proc.stderr).decode("utf-8", "backslashreplace")
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result.exit_code, result.output


def tree(root: Path) -> dict[str, int]:
    return {str(p.relative_to(root)): p.lstat().st_size for p in root.rglob("*")}


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile_input_is_refused_in_one_line(case: Case, assets: Assets, tmp_path: Path):
    args = case.argv(assets, tmp_path)
    before = tree(tmp_path)
    code, output = run_cli(args, case.process)
    errors = [line for line in output.splitlines() if line.startswith("error:")]
    assert code == 2, f"exit {code}:\n{output[-3000:]}"
    assert "Traceback" not in output and "╭" not in output, output[-3000:]
    assert len(errors) == 1, output[-3000:]
    for word in (case.names, *case.also):
        assert word in errors[0], errors[0]
    assert len(errors[0]) < 600, "the error line must not echo the input"
    assert tree(tmp_path) == before, "a refused command must write nothing"


def test_enough_cases_across_commands():
    commands = {c.id.split("-")[0] if not c.id.startswith("hole") else c.id.split("-")[1] for c in CASES}
    assert len(CASES) >= 40
    assert {
        "generate",
        "predict",
        "data",
        "train",
        "evaluate",
        "info",
        "models",
        "pretrain",
        "demo",
        "verify",
        "content",
        "library",
        "eval",
        "lora",
        "export",
    } <= commands
    for command in ("library", "eval", "lora"):  # each of the last-merged commands has its own share
        assert sum(c.id.startswith(command + "-") for c in CASES) >= 15, command


def test_every_number_and_text_option_is_validated():
    """No command declares a bare int, float or str option: each goes through `v2l.cli.options`."""
    import typer.main

    from v2l.cli.options import VALIDATED_PARSERS

    def commands(group, path=()):
        for name, cmd in getattr(group, "commands", {}).items():
            yield from commands(cmd, path + (name,)) if hasattr(cmd, "commands") else [(path + (name,), cmd)]

    def leaves(annotation):
        args = typing.get_args(annotation)
        return [x for a in args for x in leaves(a)] if args else [annotation]

    unchecked, seen = [], 0
    for path, cmd in commands(typer.main.get_command(app)):
        for param in cmd.params:
            descriptor = getattr(param, "type_descriptor", None)
            if descriptor is None:
                continue
            seen += 1
            kinds = set(leaves(descriptor.annotation)) & {int, float, str}
            if kinds and not isinstance(descriptor.parameter_info.parser, VALIDATED_PARSERS):
                unchecked.append(f"v2l {' '.join(path)} {param.name} ({descriptor.annotation})")
    assert seen > 80, "the walk must see the commands' options for this test to mean anything"
    assert not unchecked, unchecked


def test_long_prompt_gives_one_line_note_with_kept_tokens(assets: Assets, tmp_path: Path):
    """20,000 characters: generated, with one warning line saying how many tokens were kept (not the text)."""
    out = tmp_path / "o.mp4"
    code, output = run_cli(
        [
            "generate",
            "--reference",
            assets.ref,
            "--image",
            assets.image,
            "--prompt",
            "coffee " * 2_858,
            "--out",
            out,
            "--steps",
            "1",
        ],
        process=False,
    )
    assert code == 0, output[-2000:]
    notes = [line for line in output.splitlines() if "tokens" in line]
    assert len(notes) == 1 and notes[0].startswith("warning:") and "keeps its first 15" in notes[0], notes
    assert "coffee coffee" not in output and out.is_file()


def test_member_names_one_function():
    from v2l.data.shard_members import CorruptShardError, check_member_name

    assert check_member_name("train-pan_left-00003.ref.mp4") == ("train-pan_left-00003", "ref.mp4")
    for bad in ("../x.json", "a/b.json", "a\\b.json", ".json", "key", "key.", "k..json", "k.\x00json", "/k.json"):
        with pytest.raises(CorruptShardError, match="member"):
            check_member_name(bad, "s.tar")
