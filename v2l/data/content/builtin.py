"""Built-in content (the scikit-image photos and the procedural scenes), rendered on demand from its spec."""

from __future__ import annotations

from v2l.data.content.photos import load_photo
from v2l.data.content.procedural import draw


def render_builtin(spec: str, size: int):
    """The picture of a built-in input as uint8 (size, size, 3)."""
    kind, _, rest = spec.partition(":")
    if kind == "photo":
        return load_photo(rest, size)
    if kind == "procedural":
        name, seed = rest.rsplit(":", 1)
        return draw(name, int(seed), size)[0]
    raise ValueError(f"unknown built-in content {spec!r}")
