"""Where the project's messages go. Every module logs to `logging.getLogger(__name__)` (the `v2l.*` tree) and
configures nothing; an entry point (the CLI, `python -m pipelines.<job>`) calls `show_messages` once."""

from __future__ import annotations

import logging
import sys

ROOT = "v2l"


class _Stderr(logging.StreamHandler):
    """Writes to whatever sys.stderr is when a record comes (a test runner swaps it per command)."""

    def __init__(self):
        super().__init__(sys.stderr)

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value):
        pass


def _shown(record: logging.LogRecord) -> bool:
    # Our messages at the level set below; other libraries' as before any set-up (warnings and errors).
    return record.name == ROOT or record.name.startswith(ROOT + ".") or record.levelno >= logging.WARNING


def show_messages(level: int = logging.INFO) -> None:
    """`v2l.*` messages from `level` up on stderr, one plain line each (at DEBUG with logger names and levels).
    Calling it again replaces the previous set-up."""
    root = logging.getLogger()
    for h in [h for h in root.handlers if isinstance(h, _Stderr)]:
        root.removeHandler(h)
    handler = _Stderr()
    handler.addFilter(_shown)
    fmt = "%(message)s" if level > logging.DEBUG else "%(levelname)s %(name)s: %(message)s"
    handler.setFormatter(logging.Formatter(fmt))
    root.addHandler(handler)
    logging.getLogger(ROOT).setLevel(level)
