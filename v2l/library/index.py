"""`LIB/index.parquet` (one row per unique reference) and `LIB/library.json` (the library's version and totals).

A library holds the LoRAs of one hypernetwork version: its sha256, source, module list and backbone are in
`library.json`, and a build with another hypernetwork is refused (a LoRA is only meaningful with the aux
matrices that made it; mixing versions in one folder would make every tool check every file).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path

from v2l.atomic import atomic_path, write_text_atomic
from v2l.errors import V2LError
from v2l.lora.files import FORMATS
from v2l.video.reference_sampling import ReferenceSampling

LIBRARY_FORMAT = "v2l-library/1"
INDEX, INFO, QUARANTINE, LORAS = "index.parquet", "library.json", "quarantine.jsonl", "loras"


class LibraryError(V2LError):
    pass


def schema():
    import pyarrow as pa

    fields = [
        ("reference_sha256", pa.string()),
        ("inputs", pa.list_(pa.string())),
        ("label", pa.string()),
        ("source_frames", pa.int64()),
        ("width", pa.int64()),
        ("height", pa.int64()),
        ("fps", pa.float64()),
    ]
    for fmt in FORMATS:
        fields += [(f"{fmt}_path", pa.string()), (f"{fmt}_bytes", pa.int64()), (f"{fmt}_sha256", pa.string())]
    fields += [
        ("hypernet_sha256", pa.string()),
        ("hypernet_source", pa.string()),
        ("modules_sha256", pa.string()),
        ("backbone", pa.string()),
        ("seconds", pa.float64()),
        ("created_at", pa.timestamp("us", tz="UTC")),
    ]
    return pa.schema(fields)


def lora_path(sha256: str, fmt: str) -> str:
    """Where an entry's file lives, relative to the library root."""
    return f"{LORAS}/{sha256[:2]}/{sha256}.{fmt}.safetensors"


def entry_file(lib: "Library", row: dict, fmt: str) -> Path | None:
    """The entry's `fmt` file, or None if it has none. The index may only name the file's own place in LIB/loras
    (see `lora_path`), and that file may not be a link out of the library: a tampered index or a planted
    symbolic link is refused (LibraryError), never read."""
    import os

    rel = row.get(f"{fmt}_path")
    if not rel:
        return None
    sha = str(row.get("reference_sha256"))
    if rel != lora_path(sha, fmt):
        raise LibraryError(
            f"library {lib.root}: the index names {str(rel)[:120]!r} as the {fmt} file of entry "
            f"{sha[:12]}, not {lora_path(sha, fmt)}; the index was altered: delete index.parquet "
            f"and re-run the build"
        )
    path = lib.root / rel
    if path.is_symlink() and not Path(os.path.realpath(path)).is_relative_to(Path(os.path.realpath(lib.root))):
        raise LibraryError(
            f"library {lib.root}: {rel} is a symbolic link to {os.path.realpath(path)}, outside the "
            f"library; delete the link and re-run the build"
        )
    return path


def now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


@dataclass
class Library:
    root: Path
    info: dict | None = None  # library.json, None for a new library
    rows: dict[str, dict] = field(default_factory=dict)  # reference sha256 -> index row

    @property
    def formats(self) -> list[str]:
        return [f for f in FORMATS if any(r.get(f"{f}_path") for r in self.rows.values())]


def read_library(root: str | Path, must_exist: bool = False) -> Library:
    import pyarrow.parquet as pq

    root = Path(root)
    info_path, index_path = root / INFO, root / INDEX
    if not info_path.is_file():
        if must_exist:
            raise LibraryError(
                f"{root} is not a LoRA library (no {INFO}); build one with `v2l library build "
                f"--references DIR --out {root}`"
            )
        if root.exists() and any(p.name != QUARANTINE for p in root.iterdir()):
            if not (root / LORAS).is_dir():
                raise LibraryError(
                    f"--out {root} is a non-empty folder that is not a LoRA library; pass a new or empty folder"
                )
        return Library(root)
    try:
        info = json.loads(info_path.read_text("utf-8"))
        if not isinstance(info, dict):
            raise ValueError("not a JSON object")
    except (ValueError, UnicodeDecodeError) as exc:
        raise LibraryError(f"{info_path} is not valid JSON ({exc}); restore it or rebuild into a new folder") from None
    if info.get("format") != LIBRARY_FORMAT:
        raise LibraryError(f"{info_path} has format {info.get('format')!r}, expected {LIBRARY_FORMAT!r}")
    missing = [
        k
        for k in ("hypernet_sha256", "hypernet_source", "modules_sha256", "backbone")
        if not isinstance(info.get(k), str)
    ]
    if missing:
        raise LibraryError(f"{info_path} lacks {', '.join(missing)}; restore it or rebuild into a new folder")
    rows: dict[str, dict] = {}
    if index_path.is_file():
        try:
            table = pq.read_table(index_path)
        except Exception as exc:
            raise LibraryError(
                f"{index_path} cannot be read as parquet ({type(exc).__name__}: {exc}); delete it and "
                f"re-run the build to re-index the library"
            ) from None
        rows = {r["reference_sha256"]: r for r in table.to_pylist()}
    return Library(root, info, rows)


def write_index(lib: Library) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pylist([lib.rows[k] for k in sorted(lib.rows)], schema=schema())
    path = lib.root / INDEX
    with atomic_path(path) as tmp:
        pq.write_table(table, str(tmp))
    return path


def totals(lib: Library) -> dict:
    return {
        "entries": len(lib.rows),
        "inputs": sum(len(r["inputs"]) for r in lib.rows.values()),
        "labelled": sum(1 for r in lib.rows.values() if r.get("label")),
        "files": {f: sum(1 for r in lib.rows.values() if r.get(f"{f}_path")) for f in FORMATS},
        "bytes": {f: sum(r.get(f"{f}_bytes") or 0 for r in lib.rows.values()) for f in FORMATS},
    }


def write_info(lib: Library, last_build: dict) -> Path:
    assert lib.info is not None
    lib.info.update(totals=totals(lib), last_build=last_build, updated_at=now().isoformat())
    path = lib.root / INFO
    write_text_atomic(path, json.dumps(lib.info, indent=2, sort_keys=True) + "\n")
    return path


def model_identity(model) -> dict:
    return {
        "format": LIBRARY_FORMAT,
        "hypernet_sha256": model.version(),
        "hypernet_source": model.source,
        "modules_sha256": model.network.modules_sha256(),
        "backbone": model.cfg.preset,
    }


def library_sampling(lib: Library):
    """How the library's references were sampled in time (a library from before the option: the default then,
    the middle window)."""

    stored = (lib.info or {}).get("reference_sampling")
    return ReferenceSampling.model_validate(stored) if stored is not None else ReferenceSampling(window="middle")


def check_same_sampling(lib: Library, sampling) -> None:
    """One library, one way of sampling references: a re-run with other --start/--fps/--window is refused."""
    if lib.info is None:
        return
    mine = library_sampling(lib)
    if mine != sampling:

        def opts(s):
            return " ".join(f"--{k} {v}" for k, v in s.model_dump().items() if v is not None)

        raise LibraryError(
            f"library {lib.root} sampled its references with {opts(mine)}; this build asks for "
            f"{opts(sampling)}: pass the same options, or build into a new --out folder"
        )


def check_same_hypernet(lib: Library, model) -> None:
    """One library, one hypernetwork version: refuse a build with any other."""
    if lib.info is None:
        return
    mine = model_identity(model)
    for key in ("backbone", "modules_sha256", "hypernet_sha256"):
        if lib.info.get(key) != mine[key]:
            raise LibraryError(
                f"library {lib.root} holds LoRAs of hypernetwork {lib.info.get('hypernet_sha256', '?')[:12]}… "
                f"({lib.info.get('hypernet_source')}, backbone {lib.info.get('backbone')}); this build uses "
                f"{mine['hypernet_sha256'][:12]}… ({mine['hypernet_source']}, backbone {mine['backbone']}): pass "
                f"the --checkpoint that made the library, or build into a new --out folder"
            )
