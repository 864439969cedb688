"""Rejections and the quarantine log: every rejected input gets exactly one reason, in a JSON-lines file."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

from v2l.atomic import write_text_atomic

# reason code -> what it means; the detail of each rejection says what to do about it.
REASONS = {
    "empty_file": "the file has zero bytes",
    "unsupported_type": "not an image or video file type v2l reads",
    "wrong_extension": "the contents do not match the file extension",
    "symlink_outside": "a symbolic link that points outside the content folder",
    "symlink_directory": "a symbolic link to a directory (not followed)",
    "unreadable": "the file cannot be opened or decoded",
    "no_video_stream": "a media file with no video stream (audio only)",
    "truncated": "the video stops before its declared length",
    "too_short": "too few frames for one clip at the corpus fps",
    "too_long": "longer than the curation limit",
    "bad_fps": "frame rate outside the accepted range",
    "bad_resolution": "width, height or aspect ratio outside the accepted range",
    "blank": "no visible content (constant colour)",
    "duplicate_file": "byte-identical to an earlier input",
    "duplicate_content": "same pixels as an earlier input after normalisation",
    "normalise_failed": "ffmpeg could not convert it to the corpus format",
    "label_not_utf8": "a labels-file row that is not valid UTF-8",
    "label_malformed": "a labels-file row that cannot be parsed",
    "label_path_traversal": "a labels-file path that leaves the content folder",
    "label_unknown_path": "a labels-file path with no such file in the folder",
    "label_unknown_semantic": "a labels-file semantic that is not registered",
    "label_bad_caption": "a labels-file caption that is empty, too long or has control characters",
    "label_duplicate": "a second labels-file row for the same file",
}


@dataclass(frozen=True)
class Rejection:
    input: str  # the file (or "labels.csv:7" for a labels row)
    kind: str  # "file" or "label"
    reason: str  # a key of REASONS
    detail: str  # what is wrong with this input and how to fix it
    sha256: str | None = None

    def __post_init__(self):
        if self.reason not in REASONS:
            raise ValueError(f"unknown quarantine reason {self.reason!r}")


def write_quarantine(path: str | Path, rejections: list[Rejection]) -> Path:
    """One JSON object per line, in input order; written atomically (empty file if nothing was rejected)."""
    lines = [json.dumps(asdict(r), sort_keys=True, ensure_ascii=True) for r in rejections]
    write_text_atomic(path, "".join(line + "\n" for line in lines))
    return Path(path)


def read_quarantine(path: str | Path) -> list[Rejection]:
    return [Rejection(**json.loads(line)) for line in Path(path).read_text().splitlines() if line.strip()]


def reason_counts(rejections: list[Rejection]) -> dict[str, int]:
    return dict(sorted(Counter(r.reason for r in rejections).items()))
