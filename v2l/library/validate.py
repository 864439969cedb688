"""One reference through corpus curation's checks, then decoded exactly as `v2l predict` decodes it.

The file checks (type, empty, symbolic links) and the video checks (`check_video`: stream, size, fps,
truncation, length, blank) are curation's own; a library only accepts videos (a picture is no reference).
"""

from __future__ import annotations

import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from v2l.data.curation.curate import _check_symlink
from v2l.data.curation.rules import CurationRules
from v2l.data.curation.validate import IMAGE_EXTS, VIDEO_EXTS, Reject, check_video
from v2l.inference.predict import load_reference


def rules_for(spec) -> CurationRules:
    """A reference must be long enough for the preset's clip: curation's bounds at the preset's format."""
    return CurationRules(frames=spec.num_frames, height=spec.height, width=spec.width, fps=spec.fps)


def check_file(path: Path, root: Path | None) -> None:
    """Cheap checks before any byte is hashed or decoded; raises Reject."""
    _check_symlink(path, root)
    if not path.exists():
        raise Reject("unreadable", "does not exist; fix the path in the list file")
    if not path.is_file():
        raise Reject("unsupported_type", "is not a regular file (a device, socket or pipe?); remove it")
    ext = path.suffix.lower()
    if ext in IMAGE_EXTS:
        raise Reject(
            "unsupported_type", f"is a picture ({ext}); a reference must be a video ({', '.join(sorted(VIDEO_EXTS))})"
        )
    if ext not in VIDEO_EXTS:
        raise Reject(
            "unsupported_type",
            f"has extension {ext or '(none)'!r}; references are videos ({', '.join(sorted(VIDEO_EXTS))})",
        )
    if path.stat().st_size == 0:
        raise Reject("empty_file", "has zero bytes; copy it again or remove it")


@dataclass
class DecodedReference:
    frames: np.ndarray  # float32 (3, F, H, W) in [-1, 1], what the hypernetwork reads
    source_frames: int  # decoded frames of the input
    width: int
    height: int
    fps: float


def _spec_only(spec):
    # `load_reference` reads only `model.backbone.spec`: decoding needs no weights, so map tasks load none.
    return SimpleNamespace(backbone=SimpleNamespace(spec=spec))


def validate_and_decode(path: Path | None, data: bytes | None, spec, sampling=None) -> DecodedReference:
    """Curation's video checks, then `load_reference` with `sampling` (a ReferenceSampling; None: the default,
    as `v2l predict`); raises Reject. `data` (a shard member) is checked through a temporary file, since the
    checks read files."""

    if path is None:
        with tempfile.TemporaryDirectory(prefix="v2l-ref-") as tmp:
            member = Path(tmp) / "reference.mp4"
            member.write_bytes(data)
            return validate_and_decode(member, None, spec, sampling)
    checked = check_video(path, rules_for(spec))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # frame-count resampling is expected for references of any length
            frames = load_reference(_spec_only(spec), path, sampling)
    except Exception as exc:  # a file curation accepts but the model's decoder refuses
        raise Reject(
            "unreadable", f"cannot be decoded for the model ({type(exc).__name__}: {exc}); re-encode it with ffmpeg"
        ) from None
    return DecodedReference(
        frames.numpy().astype(np.float32),
        checked.decoded_frames,
        checked.info.width,
        checked.info.height,
        checked.info.fps,
    )
