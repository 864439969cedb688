"""Curation: every raw input becomes a content item or a quarantine entry with one reason, never a crash.

Writes the content picture (`curated/content/<id>.png`) and, for videos, the normalised clip
(`curated/clips/<id>.mp4`) under the corpus directory. Inputs are handled in a fixed order, so the
first of two duplicates is always the one kept.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from v2l.data.content.builtin import render_builtin
from v2l.data.content.item import DEFAULT_CAPTION, ContentItem, RawInput
from v2l.data.content.photos import square_resize
from v2l.data.curation.normalise import normalise_video
from v2l.data.curation.quarantine import Rejection, reason_counts
from v2l.data.curation.rules import CurationRules
from v2l.data.curation.validate import IMAGE_EXTS, VIDEO_EXTS, Reject, check_image, check_not_blank, check_video
from v2l.video.io import decode_frames, file_sha256, write_png


@dataclass
class CurationResult:
    items: list[ContentItem] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)  # file inputs only
    inputs: int = 0

    def counts(self) -> dict:
        c = {
            "inputs": self.inputs,
            "accepted": len(self.items),
            "quarantined": len(self.rejections),
            "quarantined_by_reason": reason_counts(self.rejections),
        }
        assert c["inputs"] == c["accepted"] + c["quarantined"], c  # the invariant every caller relies on
        return c


class _Seen:
    """What dedupe compares: raw file hashes and decoded-pixel hashes, each to the first input that had it."""

    def __init__(self):
        self.files: dict[str, str] = {}
        self.content: dict[str, str] = {}


def _check_symlink(path: Path, root: Path | None) -> None:
    if not path.is_symlink():
        return
    target = Path(os.path.realpath(path))
    if root is not None and not target.is_relative_to(Path(os.path.realpath(root))):
        raise Reject(
            "symlink_outside",
            f"is a symbolic link to {target}, outside the content folder {root}; copy the file into the folder instead",
        )
    if target.is_dir():
        raise Reject("symlink_directory", "is a symbolic link to a directory, which is not followed; copy the files")
    if not target.exists():
        raise Reject("unreadable", f"is a broken symbolic link (to {target}); remove it")


def _curate_file(raw: RawInput, rules: CurationRules, corpus: Path, seen: _Seen) -> ContentItem:
    path = raw.path
    assert path is not None
    _check_symlink(path, raw.root)
    if not path.is_file():
        raise Reject("unsupported_type", "is not a regular file (a device, socket or pipe?); remove it")
    ext = path.suffix.lower()
    if ext not in IMAGE_EXTS and ext not in VIDEO_EXTS:
        raise Reject(
            "unsupported_type",
            f"has extension {ext or '(none)'!r}; v2l reads images "
            f"({', '.join(sorted(IMAGE_EXTS))}) and videos ({', '.join(sorted(VIDEO_EXTS))})",
        )
    if path.stat().st_size == 0:
        raise Reject("empty_file", "has zero bytes; copy it again or remove it")
    sha = file_sha256(path)
    try:
        return _curate_known_file(raw, path, ext, sha, rules, corpus, seen)
    except Reject as r:
        r.sha256 = sha  # the log then identifies the rejected bytes, not just the name
        raise


def _curate_known_file(
    raw: RawInput, path: Path, ext: str, sha: str, rules: CurationRules, corpus: Path, seen: _Seen
) -> ContentItem:
    if sha in seen.files:
        raise Reject("duplicate_file", f"has the same bytes as {seen.files[sha]}; remove one of them")
    seen.files[sha] = raw.name
    kind = "image" if ext in IMAGE_EXTS else "video"
    item_id = f"{'img' if kind == 'image' else 'vid'}-{sha[:16]}"
    clip_rel = None
    if kind == "image":
        picture = square_resize(check_image(path, rules), rules.content_size)
        pixels = picture.tobytes()
    else:
        checked = check_video(path, rules)
        picture = square_resize(checked.first_frame, rules.content_size)
        clip_rel = f"curated/clips/{item_id}.mp4"
        try:
            normalise_video(path, corpus / clip_rel, rules)
            frames, _ = decode_frames(corpus / clip_rel)
        except Exception as exc:  # NormaliseError, or the output not decoding
            raise Reject(
                "normalise_failed",
                f"could not be converted to {rules.frames} frames of "
                f"{rules.height}x{rules.width} at {rules.fps} fps ({exc}); re-encode it with ffmpeg",
            ) from None
        if frames.shape[0] != rules.frames:
            (corpus / clip_rel).unlink(missing_ok=True)
            raise Reject(
                "too_short",
                f"gives {frames.shape[0]} frames at {rules.fps} fps, a clip needs {rules.frames}; use a longer video",
            )
        pixels = picture.tobytes() + frames.tobytes()
    content_hash = hashlib.sha256(pixels).hexdigest()
    if content_hash in seen.content:
        if clip_rel:
            (corpus / clip_rel).unlink(missing_ok=True)
        raise Reject("duplicate_content", f"shows the same pixels as {seen.content[content_hash]}; remove one")
    seen.content[content_hash] = raw.name
    image_rel = f"curated/content/{item_id}.png"
    write_png(corpus / image_rel, picture)
    return ContentItem(
        id=item_id,
        source=raw.source,
        caption=raw.caption or DEFAULT_CAPTION[kind],
        image=image_rel,
        sha256=sha,
        content_hash=content_hash,
        input=raw.name,
        kind=kind,
        clip=clip_rel,
        semantic=raw.semantic,
        licence=raw.licence,
        origin=raw.origin or str(path),
    )


def _curate_builtin(raw: RawInput, rules: CurationRules, corpus: Path, seen: _Seen) -> ContentItem:
    picture = np.ascontiguousarray(render_builtin(raw.builtin, rules.content_size))
    check_not_blank([picture], rules)
    digest = hashlib.sha256(picture.tobytes()).hexdigest()
    if digest in seen.content:
        raise Reject("duplicate_content", f"shows the same pixels as {seen.content[digest]}")
    seen.content[digest] = raw.name
    item_id = raw.id_hint or f"{raw.source}-{digest[:16]}"
    image_rel = f"curated/content/{item_id}.png"
    write_png(corpus / image_rel, picture)
    return ContentItem(
        id=item_id,
        source=raw.source,
        caption=raw.caption or DEFAULT_CAPTION["image"],
        image=image_rel,
        sha256=digest,
        content_hash=digest,
        input=raw.name,
        licence=raw.licence,
        origin=raw.origin,
    )


def curate(
    inputs: list[RawInput],
    rules: CurationRules,
    corpus: str | Path,
    progress: Callable[[int, int, str], None] | None = None,
) -> CurationResult:
    """Accept or quarantine each input, in order; `progress(i, n, name)` is called after each one."""
    corpus = Path(corpus)
    seen = _Seen()
    result = CurationResult(inputs=len(inputs))
    for i, raw in enumerate(inputs):
        try:
            item = (_curate_builtin if raw.builtin is not None else _curate_file)(raw, rules, corpus, seen)
            result.items.append(item)
        except Reject as r:
            result.rejections.append(
                Rejection(raw.name, "file", r.reason, f"{raw.name} {r.detail}", getattr(r, "sha256", None))
            )
        except Exception as exc:  # never let one input stop the corpus; report it as unreadable
            result.rejections.append(
                Rejection(
                    raw.name, "file", "unreadable", f"{raw.name} could not be processed ({type(exc).__name__}: {exc})"
                )
            )
        if progress:
            progress(i + 1, len(inputs), raw.name)
    result.counts()
    return result
