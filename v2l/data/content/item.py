"""What a content source yields: a raw input to curate, and the curated content item it becomes."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass
class RawInput:
    """One input before curation: a file on disk, or a built-in picture rendered on demand."""

    name: str  # how logs and errors refer to it (a path, or "builtin:photo/astronaut")
    source: str  # photo | procedural | user | fetched
    caption: str | None = None  # from a labels file or hand-written; None -> a neutral default
    semantic: str | None = None  # a labelled semantic for a real clip, if any
    path: Path | None = None  # for files
    builtin: str | None = None  # "photo:<name>" or "procedural:<kind>:<seed>": rendered on demand (picklable)
    licence: str = ""
    origin: str = ""
    id_hint: str | None = None  # a readable id for built-ins ("photo-astronaut"); files get "<kind>-<hash>"
    root: Path | None = None  # the folder a file was found in: symlinks must not leave it


@dataclass
class ContentItem:
    """An accepted piece of content: a square picture for the semantics (and the normalised clip, for videos)."""

    id: str
    source: str
    caption: str
    image: str  # content PNG, relative to the corpus directory
    sha256: str  # of the raw input (file bytes, or the rendered picture)
    content_hash: str  # of the decoded, normalised pixels: what dedupe compares
    input: str
    kind: str = "image"  # image | video
    clip: str | None = None  # normalised mp4 for videos, relative to the corpus directory
    semantic: str | None = None
    licence: str = ""
    origin: str = ""

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "ContentItem":
        return cls(**d)


DEFAULT_CAPTION = {"image": "a picture", "video": "a video"}
