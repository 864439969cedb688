"""What a build must do, given its inputs and the library as it is: the incremental rules.

* Entries are keyed by reference sha256 (+ the library's one hypernetwork version) + format.
* The first input with given bytes is the one built; later ones with the same bytes are duplicates, built
  never, recorded in the entry's `inputs`.
* An entry whose requested formats all exist and match their recorded sha256 is skipped (already built).
* A missing format is built; a file that is missing or fails its hash is rebuilt and reported (`repaired`).
* Bytes the last build quarantined are quarantined again without decoding (delete `quarantine.jsonl` to
  have them checked again).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from v2l.data.curation.quarantine import Rejection
from v2l.library.index import Library, LibraryError, entry_file
from v2l.library.inputs import ReferenceInput
from v2l.lora.files import FORMATS
from v2l.video.io import file_sha256


@dataclass
class Task:
    first: ReferenceInput  # the input whose bytes are decoded
    formats: list[str]  # what to (re)write
    names: list[str]  # every input of this run with these bytes, the first first
    label: str | None


@dataclass
class Plan:
    tasks: list[Task] = field(default_factory=list)
    duplicates: list[ReferenceInput] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # sha256 of entries already complete
    quarantined: list[Rejection] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)  # library-relative paths that failed verification
    verified: int = 0  # existing files that matched their sha256
    new_names: dict[str, list[str]] = field(default_factory=dict)  # sha256 -> this run's input names


def file_ok(lib: Library, row: dict, fmt: str) -> bool:
    """The entry's file is in its place and has its recorded sha256 (a file the index may not name is not ok:
    it is rebuilt at its own place)."""
    try:
        path = entry_file(lib, row, fmt)
    except LibraryError:
        return False
    return bool(path and path.is_file() and file_sha256(path) == row.get(f"{fmt}_sha256"))


def make_plan(lib: Library, inputs: list[ReferenceInput], formats: list[str], previous: list[Rejection] = ()) -> Plan:
    """`previous`: the last build's quarantine; bytes it rejected after decoding are not decoded again."""
    plan = Plan()
    first: dict[str, Task | None] = {}
    rejected = {r.sha256: r for r in previous if r.kind == "file" and r.sha256}
    for inp in inputs:
        if inp.rejection is None and inp.sha256 in rejected and inp.sha256 not in lib.rows:
            prev = rejected[inp.sha256]
            detail = (
                prev.detail
                if prev.input == inp.name
                else f"{inp.name} has the same bytes as {prev.input}, rejected before: {prev.detail}"
            )
            inp.rejection = Rejection(inp.name, "file", prev.reason, detail, inp.sha256)
        if inp.rejection is not None:
            plan.quarantined.append(inp.rejection)
            continue
        sha = inp.sha256
        plan.new_names.setdefault(sha, []).append(inp.name)
        if sha in first:
            plan.duplicates.append(inp)
            task = first[sha]
            if task is not None:
                task.names.append(inp.name)
                task.label = task.label or inp.label
            continue
        row = lib.rows.get(sha)
        todo = list(formats)
        if row is not None:
            todo = []
            for fmt in FORMATS:  # verify every file the entry has, build what this run asks for
                has = bool(row.get(f"{fmt}_path"))
                if has and not file_ok(lib, row, fmt):
                    plan.repaired.append(row[f"{fmt}_path"])
                    todo.append(fmt)
                elif has:
                    plan.verified += 1
                elif not has and fmt in formats:
                    todo.append(fmt)
        if todo:
            task = Task(inp, todo, [inp.name], inp.label)
            plan.tasks.append(task)
            first[sha] = task
        else:
            plan.skipped.append(sha)
            first[sha] = None
    return plan
