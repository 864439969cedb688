"""The references of a build: a folder of videos, a list file (one path per line) or a corpus `manifest.json`.

Each input is hashed here (sha256 of its bytes: the library's key) after curation's cheap file checks;
inputs failing those carry their rejection and are never read. Corpus samples take their label from the
sample's `.json` (`semantic`); other inputs from a labels file (`path,semantic` rows, paths relative to it).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from v2l.data.content.user_folder import METADATA_FILES, _bad_caption, _parse, list_files
from v2l.data.curation.quarantine import Rejection
from v2l.data.curation.validate import Reject
from v2l.data.reader import Corpus, iter_tar
from v2l.errors import V2LError
from v2l.library.validate import check_file
from v2l.video.io import file_sha256


@dataclass
class ReferenceInput:
    name: str  # what is recorded: the absolute path, or "<shard>#<member>" for a corpus sample
    path: str | None = None  # a file on disk
    data: bytes | None = None  # a shard member's bytes (read once, while hashing)
    sha256: str | None = None
    label: str | None = None
    rejection: Rejection | None = None

    def reject(self, r: Reject) -> None:
        self.rejection = Rejection(self.name, "file", r.reason, f"{self.name} {r.detail}", self.sha256)


def _from_paths(paths: list[Path], root: Path | None) -> list[ReferenceInput]:
    out = []
    for path in paths:
        inp = ReferenceInput(name=os.path.abspath(path), path=os.path.abspath(path))
        try:
            check_file(path, root)
            inp.sha256 = file_sha256(path)
        except Reject as r:
            inp.reject(r)
        except OSError as exc:  # unreadable permissions, a file vanishing while listed
            inp.reject(Reject("unreadable", f"cannot be read ({type(exc).__name__}: {exc})"))
        out.append(inp)
    return out


def _from_list_file(path: Path) -> list[ReferenceInput]:
    try:
        lines = path.read_text("utf-8").splitlines()
    except UnicodeDecodeError:
        raise V2LError(f"list file {path} is not UTF-8 text; write one video path per line") from None
    paths = [Path(line.strip()) for line in lines if line.strip() and not line.lstrip().startswith("#")]
    return _from_paths([p if p.is_absolute() else path.parent / p for p in paths], None)


def _from_manifest(path: Path) -> list[ReferenceInput]:
    import hashlib
    import json

    if path.name != "manifest.json":
        raise V2LError(f"{path} is not a corpus manifest (expected manifest.json written by `v2l data build`)")
    corpus = Corpus(path.parent)
    out = []
    for shard in corpus.verify():  # each shard is checked against the manifest before it is read
        for sample in iter_tar(shard):
            data = sample.get("ref.mp4")
            inp = ReferenceInput(name=f"{shard.resolve()}#{sample['__key__']}.ref.mp4", data=data)
            try:
                meta = json.loads(sample.get("json") or b"{}")
                inp.label = meta.get("semantic") if isinstance(meta, dict) else None
            except ValueError:
                pass
            if not data:
                inp.reject(Reject("empty_file", "has no reference clip in its shard; rebuild the corpus"))
            else:
                inp.sha256 = hashlib.sha256(data).hexdigest()
            out.append(inp)
    return out


def read_labels(path: Path) -> tuple[dict[str, str], list[Rejection]]:
    """`path,semantic` rows (csv, or jsonl objects) -> {absolute input path: label}; bad rows are rejections."""
    if not path.is_file():
        raise V2LError(f"labels file {path} does not exist; pass a CSV with a header row path,semantic")
    labels: dict[str, str] = {}
    rejected: list[Rejection] = []
    for where, row, rejection in _parse(path):
        if rejection is not None:
            rejected.append(rejection)
            continue
        rel, label = row.get("path"), row.get("semantic") or row.get("label")
        why = _bad_caption(label) if isinstance(rel, str) and rel.strip() else "has no path"
        if why:
            rejected.append(
                Rejection(
                    where,
                    "label",
                    "label_malformed",
                    f"{where} label {why}; give each row a path and a short plain-text semantic",
                )
            )
            continue
        full = os.path.abspath(path.parent / rel.strip())
        if full in labels:
            rejected.append(Rejection(where, "label", "label_duplicate", f"{where} labels {rel!r} again; keep one row"))
            continue
        labels[full] = label.strip()
    return labels, rejected


def list_inputs(source: str | Path, labels: str | Path | None = None) -> tuple[list[ReferenceInput], list[Rejection]]:
    """Every input of `source` in a fixed order (so the first of duplicates is always the one named first),
    hashed, and the rejected labels rows."""
    source = Path(source)
    if source.is_dir():
        root_meta = {source / n for n in METADATA_FILES}
        inputs = _from_paths([p for p in list_files(source) if p not in root_meta], source)
        if labels is None:  # a folder's own labels.csv, as for corpus content folders
            labels = next((p for p in sorted(root_meta) if p.suffix == ".csv" and p.is_file()), None)
    elif source.name.endswith(".json"):
        inputs = _from_manifest(source)
    elif source.is_file():
        inputs = _from_list_file(source)
    else:
        raise V2LError(
            f"--references {source} does not exist; pass a folder of videos, a list file (one path per "
            f"line) or a corpus manifest.json"
        )
    label_rejections: list[Rejection] = []
    if labels is not None:
        by_path, label_rejections = read_labels(Path(labels))
        for inp in inputs:
            if inp.path is not None and inp.path in by_path:
                inp.label = by_path[inp.path]
        known = {inp.path for inp in inputs}
        for full in sorted(set(by_path) - known):
            label_rejections.append(
                Rejection(
                    f"{labels}",
                    "label",
                    "label_unknown_path",
                    f"{labels} labels {full}, which is not an input; fix the path",
                )
            )
    return inputs, label_rejections
