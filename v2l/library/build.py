"""A library build, with the heavy work handed to an executor: the Ray Data job (`pipelines/build_library.py`)
or `local_executor`, a plain loop in this process. Both run the same two row functions: `decode_task` (map
tasks: curation's checks and decoding) and `write_task` (the model holder: prediction and files).

Counts: inputs = built + duplicates + skipped (already built) + quarantined, asserted and printed at the end.
The index is rewritten every few seconds while results come in, so a killed build loses little; a file
written after the last index write has no entry yet and is simply rebuilt (atomically) by the next run.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

import numpy as np

from v2l.backbones import get_spec
from v2l.data.curation.quarantine import Rejection, read_quarantine, reason_counts, write_quarantine
from v2l.data.curation.validate import Reject
from v2l.errors import V2LError
from v2l.library.index import (
    INDEX,
    INFO,
    LORAS,
    QUARANTINE,
    Library,
    check_same_hypernet,
    check_same_sampling,
    model_identity,
    now,
    read_library,
    write_index,
    write_info,
)
from v2l.library.inputs import list_inputs
from v2l.library.plan import Plan, make_plan
from v2l.library.validate import validate_and_decode
from v2l.lora.files import FORMATS
from v2l.video.reference_sampling import ReferenceSampling

log = logging.getLogger(__name__)

INDEX_EVERY_S = 5.0

# A task row as it travels through Ray Data: flat, fixed types (bytes, str, float), so every batch is columnar.
Row = dict


def parse_formats(text: str | list[str]) -> list[str]:
    items = [f.strip() for f in (text.split(",") if isinstance(text, str) else text) if f.strip()]
    bad = [f for f in items if f not in FORMATS]
    if bad or not items:
        raise V2LError(f"--formats {text!r}: choose from {', '.join(FORMATS)} (comma-separated)")
    return [f for f in FORMATS if f in items]


def task_rows(plan: Plan, sampling: ReferenceSampling | None = None) -> list[Row]:
    """One row per reference to build; `sampling` (how the reference is sampled in time) travels as JSON."""
    how = (sampling or ReferenceSampling()).model_dump_json()
    return [
        {
            "sha256": t.first.sha256,
            "name": t.first.name,
            "path": t.first.path or "",
            "data": t.first.data or b"",
            "formats": ",".join(t.formats),
            "sampling": how,
        }
        for t in plan.tasks
    ]


def decode_task(row: Row, preset: str) -> Row:
    """Validate and decode one reference; a rejection travels on in `reason`/`detail` (frames empty)."""

    t0 = time.perf_counter()
    out = {k: row[k] for k in ("sha256", "name", "formats")}
    out.update(frames=b"", shape="", reason="", detail="", source_frames=0, width=0, height=0, fps=0.0)
    try:
        sampling = ReferenceSampling.model_validate_json(row["sampling"]) if row.get("sampling") else None
        ref = validate_and_decode(
            Path(row["path"]) if row["path"] else None, row["data"] or None, get_spec(preset), sampling
        )
        out.update(
            frames=ref.frames.tobytes(),
            shape=json.dumps(list(ref.frames.shape)),
            source_frames=ref.source_frames,
            width=ref.width,
            height=ref.height,
            fps=ref.fps,
        )
    except Reject as r:
        out.update(reason=r.reason, detail=r.detail)
    except Exception as exc:  # never let one input stop the build: it is quarantined as unreadable
        out.update(reason="unreadable", detail=f"could not be processed ({type(exc).__name__}: {exc})")
    out["decode_seconds"] = time.perf_counter() - t0
    return out


def write_task(writer, row: Row) -> Row:
    """Predict and write the files of a decoded row (rejections pass through); returns a JSON-able result."""
    keep = ("sha256", "name", "reason", "detail", "source_frames", "width", "height", "fps")
    result = {k: (v.item() if hasattr(v, "item") else v) for k, v in row.items() if k in keep}
    if not row["reason"]:
        frames = np.frombuffer(row["frames"], dtype=np.float32).reshape(json.loads(row["shape"]))
        record = writer.write(row["sha256"], frames, row["formats"].split(","))
        record["seconds"] += float(row["decode_seconds"])
        result["record"] = record
    return result


def local_executor(writer) -> Callable[[list[Row], str], Iterator[dict]]:
    """The same work as the Ray job, one reference after another in this process."""

    def run(rows: list[Row], preset: str) -> Iterator[dict]:
        for row in rows:
            yield write_task(writer, decode_task(row, preset))

    return run


@dataclass
class BuildResult:
    root: Path
    counts: dict
    repaired: list[str] = field(default_factory=list)
    quarantine: list[Rejection] = field(default_factory=list)

    def summary(self) -> str:
        c = self.counts
        lines = [
            f"inputs {c['inputs']} = built {c['built']} + duplicates {c['duplicates']} + skipped (already built) "
            f"{c['skipped']} + quarantined {c['quarantined']}",
            f"files written {c['files_written']}, verified {c['verified']}, repaired {c['repaired']}",
        ]
        lines += [f"repaired (failed its sha256, rebuilt): {p}" for p in self.repaired]
        if c["quarantined"] or c["label_quarantined"]:
            lines.append(
                f"quarantine {self.root / QUARANTINE}: "
                + ", ".join(f"{k} {v}" for k, v in c["quarantined_by_reason"].items())
            )
        lines.append(f"index {self.root / INDEX}, {self.root / INFO}")
        return "\n".join(lines)


def _clean_partial(root: Path) -> None:
    # Temporary files of a killed build (hidden `.tmp-*`): never entries, safe to drop before a new build.
    if (root / LORAS).is_dir():
        for tmp in (root / LORAS).rglob(".tmp-*"):
            tmp.unlink(missing_ok=True)


def _update_row(lib: Library, result: dict, names: list[str], label: str | None, identity: dict) -> None:
    sha = result["sha256"]
    row = lib.rows.get(sha) or {
        "reference_sha256": sha,
        "inputs": [],
        "label": None,
        "created_at": now(),
        **{f"{f}_{k}": None for f in FORMATS for k in ("path", "bytes", "sha256")},
    }
    row["inputs"] = list(dict.fromkeys([*row["inputs"], *names]))
    row["label"] = row["label"] or label
    row.update({k: result[k] for k in ("source_frames", "width", "height", "fps")})
    row.update({k: identity[k] for k in ("hypernet_sha256", "hypernet_source", "modules_sha256", "backbone")})
    row.update(result["record"])
    lib.rows[sha] = row


def build_library(
    references: str | Path,
    out: str | Path,
    model,
    execute: Callable[[list[Row], str], Iterable[dict]],
    formats: list[str] | str = ("compact",),
    labels: str | Path | None = None,
    progress: bool = True,
    sampling: ReferenceSampling | None = None,
) -> BuildResult:
    """Plan against LIB's index, run the tasks through `execute`, index the results. `model` gives the identity
    (the hypernetwork version) the library must have; `execute` must predict with the same model. `sampling`
    (how each reference is sampled in time, as `v2l predict --start/--fps/--window`) is part of the library's
    identity too: every entry of one library was sampled the same way, and `library search` samples so."""
    from tqdm import tqdm

    out = Path(out)
    formats = parse_formats(formats) if isinstance(formats, str) else parse_formats(list(formats))
    lib = read_library(out)
    sampling = sampling or ReferenceSampling()
    check_same_hypernet(lib, model)
    check_same_sampling(lib, sampling)
    identity = model_identity(model)
    lib.info = lib.info or {**identity, "reference_sampling": sampling.model_dump()}
    inputs, label_rejections = list_inputs(references, labels)
    if not inputs:
        raise V2LError(
            f"--references {references} holds no inputs; pass a folder of videos, a list file or a corpus manifest.json"
        )
    _clean_partial(out)
    previous = read_quarantine(out / QUARANTINE) if (out / QUARANTINE).is_file() else []
    plan = make_plan(lib, inputs, formats, previous)
    dirty = bool(plan.tasks)
    for sha, names in plan.new_names.items():  # new input names for entries that are already complete
        if sha in lib.rows and not set(names) <= set(lib.rows[sha]["inputs"]):
            lib.rows[sha]["inputs"] = list(dict.fromkeys([*lib.rows[sha]["inputs"], *names]))
            dirty = True
    out.mkdir(parents=True, exist_ok=True)
    if not (out / INFO).is_file():  # the library's identity first: a killed first build still leaves a library
        write_info(lib, {"status": "building"})
    tasks = {t.first.sha256: t for t in plan.tasks}
    quarantined = list(plan.quarantined)
    built, files_written, last_index, pending = 0, 0, time.monotonic(), False
    log.info(
        f"{len(inputs)} inputs: {len(plan.tasks)} to check and build, {len(plan.skipped)} already built, "
        f"{len(plan.duplicates)} duplicates, {len(plan.quarantined)} rejected before decoding"
    )
    bar = tqdm(
        total=len(plan.tasks),
        desc="building LoRAs",
        unit="ref",
        disable=not progress or not plan.tasks,
        file=sys.stderr,
    )
    try:
        for result in execute(task_rows(plan, sampling), identity["backbone"]):
            task = tasks[result["sha256"]]
            if result.get("reason"):
                for name in task.names:  # the duplicates of a rejected reference share its fate
                    why = (
                        result["detail"]
                        if name == task.first.name
                        else f"has the same bytes as {task.first.name}, which {result['detail']}"
                    )
                    quarantined.append(Rejection(name, "file", result["reason"], f"{name} {why}", result["sha256"]))
            else:
                _update_row(lib, result, task.names, task.label, identity)
                built += 1
                pending = True
                files_written += len(task.formats)
            bar.update(1)
            if pending and time.monotonic() - last_index > INDEX_EVERY_S:
                write_index(lib)
                last_index, pending = time.monotonic(), False
    finally:
        bar.close()
    rejected_dups = sum(
        len(tasks[r.sha256].names) - 1
        for r in quarantined
        if r.sha256 in tasks and r.input == tasks[r.sha256].first.name
    )
    counts = {
        "inputs": len(inputs),
        "built": built,
        "duplicates": len(plan.duplicates) - rejected_dups,
        "skipped": len(plan.skipped),
        "quarantined": len(quarantined),
        "quarantined_by_reason": reason_counts(quarantined + label_rejections),
        "label_quarantined": len(label_rejections),
        "files_written": files_written,
        "repaired": len(plan.repaired),
        "verified": plan.verified,
    }
    assert counts["inputs"] == counts["built"] + counts["duplicates"] + counts["skipped"] + counts["quarantined"], (
        counts
    )
    if dirty or not (out / INDEX).is_file():
        write_index(lib)
    order = {inp.name: i for i, inp in enumerate(inputs)}
    quarantined.sort(key=lambda r: order.get(r.input, len(order)))
    write_quarantine(out / QUARANTINE, quarantined + label_rejections)
    write_info(
        lib,
        {**counts, "formats": formats, "references": str(Path(references).resolve()), "finished_at": now().isoformat()},
    )
    return BuildResult(out, counts, plan.repaired, quarantined + label_rejections)
