"""A user's folder of videos and images, with an optional labels file giving captions and semantics.

Labels file (at the folder root): `labels.csv` with a header row `path,caption,semantic`, or
`labels.jsonl` with one object per line `{"path": ..., "caption": ..., "semantic": ...}`; `semantic` is
optional. Paths are relative to the folder. Every file in the folder (but the labels file) is an input
for curation; every labels row is accepted or quarantined on its own.
"""

from __future__ import annotations

import csv
import io
import json
import os
import posixpath
import unicodedata
from pathlib import Path

from v2l.data.content.item import RawInput
from v2l.data.curation.quarantine import Rejection
from v2l.data.semantics import all_semantics
from v2l.errors import V2LError

LABEL_FILES = ("labels.csv", "labels.jsonl")
METADATA_FILES = (*LABEL_FILES, "SOURCES.json")  # folder metadata, not content
MAX_CAPTION = 300


def list_files(root: Path) -> list[Path]:
    """Every file below `root`, sorted; symlinks are listed (curation checks them) but never followed."""
    out: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames.sort()
        base = Path(dirpath)
        # A symlink to a directory shows up in dirnames; list it so it is quarantined, not silently skipped.
        out += [base / d for d in dirnames if (base / d).is_symlink()]
        out += [base / f for f in sorted(filenames)]
    return sorted(out, key=lambda p: os.fsencode(p))


def _rows(labels: Path) -> list[tuple[int, bytes]]:
    return [(i + 1, line) for i, line in enumerate(labels.read_bytes().splitlines()) if line.strip()]


def _parse(labels: Path) -> list[tuple[str, dict | None, Rejection | None]]:
    """(where, row or None, rejection or None) per non-empty line."""
    out = []
    rows = _rows(labels)
    header: list[str] | None = None
    for lineno, raw in rows:
        where = f"{labels}:{lineno}"
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            if header is None and labels.suffix != ".jsonl":  # no readable header: the file is not a labels CSV
                raise V2LError(
                    f"{labels} is not UTF-8 text (byte 0x{raw[exc.start]:02x} on line {lineno}, before "
                    f"its header row); save it as a UTF-8 CSV starting with a header such as "
                    f"path,caption,semantic"
                ) from None
            out.append(
                (
                    where,
                    None,
                    Rejection(
                        where,
                        "label",
                        "label_not_utf8",
                        f"{where} is not valid UTF-8 (byte {exc.start}); save the labels file as UTF-8",
                    ),
                )
            )
            continue
        try:
            if labels.suffix == ".jsonl":
                row = json.loads(text)
                if not isinstance(row, dict):
                    raise ValueError("not a JSON object")
            else:
                fields = next(csv.reader(io.StringIO(text)))
                if header is None:
                    header = [f.strip().lower() for f in fields]
                    if "path" not in header:
                        raise V2LError(
                            f"{labels} must start with a header row naming its columns, e.g. path,caption,semantic"
                        )
                    continue
                if len(fields) > len(header):
                    raise ValueError(f"{len(fields)} fields for {len(header)} columns")
                row = dict(zip(header, fields))
        except V2LError:
            raise
        except Exception as exc:
            out.append(
                (
                    where,
                    None,
                    Rejection(
                        where,
                        "label",
                        "label_malformed",
                        f"{where} cannot be parsed ({exc}); see `v2l data build --help` for the labels format",
                    ),
                )
            )
            continue
        out.append((where, row, None))
    return out


def _bad_caption(caption: object) -> str | None:
    if not isinstance(caption, str) or not caption.strip():
        return "is empty"
    if len(caption) > MAX_CAPTION:
        return f"has {len(caption)} characters (at most {MAX_CAPTION})"
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs") for ch in caption):
        return "contains control characters"
    return None


def read_labels(
    root: Path, files: list[Path], known_semantics: set[str]
) -> tuple[dict[Path, dict], list[Rejection], int]:
    """Accepted rows keyed by the file they label, one rejection per refused row, and the number of rows."""
    labels = next((root / n for n in LABEL_FILES if (root / n).is_file()), None)
    if labels is None:
        return {}, [], 0
    by_rel = {posixpath.normpath(p.relative_to(root).as_posix()): p for p in files}
    accepted: dict[Path, dict] = {}
    rejected: list[Rejection] = []
    parsed = _parse(labels)
    for where, row, rejection in parsed:
        if rejection is not None:
            rejected.append(rejection)
            continue
        rel = row.get("path")
        if not isinstance(rel, str) or not rel.strip():
            rejected.append(Rejection(where, "label", "label_malformed", f"{where} has no path"))
            continue
        norm = posixpath.normpath(rel.strip().replace("\\", "/"))
        if rel.startswith(("/", "\\")) or norm == ".." or norm.startswith("../") or ":" in rel.split("/")[0]:
            rejected.append(
                Rejection(
                    where,
                    "label",
                    "label_path_traversal",
                    f"{where} path {rel!r} leaves the content folder; use a path relative to {root}",
                )
            )
            continue
        target = by_rel.get(norm)
        if target is None:
            rejected.append(
                Rejection(
                    where,
                    "label",
                    "label_unknown_path",
                    f"{where} path {rel!r} is not a file in {root}; fix the path or remove the row",
                )
            )
            continue
        caption = row.get("caption")
        why = _bad_caption(caption)
        if why:
            rejected.append(
                Rejection(
                    where,
                    "label",
                    "label_bad_caption",
                    f"{where} caption {why}; write a short plain-text description of the content",
                )
            )
            continue
        semantic = (row.get("semantic") or "").strip() or None
        if semantic is not None and semantic not in known_semantics:
            rejected.append(
                Rejection(
                    where,
                    "label",
                    "label_unknown_semantic",
                    f"{where} semantic {semantic!r} is not registered; see `v2l data semantics` or leave it empty",
                )
            )
            continue
        if target in accepted:
            rejected.append(
                Rejection(where, "label", "label_duplicate", f"{where} labels {rel!r} again; keep one row per file")
            )
            continue
        accepted[target] = {"caption": " ".join(caption.split()), "semantic": semantic}
    assert len(accepted) + len(rejected) == len(parsed)
    return accepted, rejected, len(parsed)


def folder_inputs(root: str | Path, source: str = "user") -> tuple[list[RawInput], list[Rejection], int]:
    """Raw inputs for every file in the folder, rejected labels rows, and how many labels rows there were."""

    root = Path(root)
    if not root.is_dir():
        raise V2LError(f"content folder {root} does not exist or is not a directory; pass --content DIR")
    files = [p for p in list_files(root) if not (p.parent == root and p.name in METADATA_FILES)]
    labels, rejected, n_rows = read_labels(root, files, {s.name for s in all_semantics()})
    licences = _licences(root)
    inputs = []
    for p in files:
        lab = labels.get(p, {})
        rel = p.relative_to(root).as_posix()
        lic = licences.get(rel, {})
        inputs.append(
            RawInput(
                name=str(p),
                source="fetched" if lic else source,
                caption=lab.get("caption"),
                semantic=lab.get("semantic"),
                path=p,
                root=root,
                licence=lic.get("licence", ""),
                origin=lic.get("origin", ""),
            )
        )
    return inputs, rejected, n_rows


def _licences(root: Path) -> dict[str, dict]:
    """`SOURCES.json` written by `v2l content fetch`: licence and origin per file (optional)."""
    f = root / "SOURCES.json"
    try:
        data = json.loads(f.read_text("utf-8")) if f.is_file() else {}
        return {d["file"]: d for d in data.get("files", []) if isinstance(d, dict) and "file" in d}
    except (ValueError, OSError):
        return {}
