"""How every `v2l` command reports input errors: one line on stderr and exit 2, never a traceback."""

from __future__ import annotations

import functools
import warnings

import typer


def say(msg: str) -> None:
    typer.echo(msg, err=True)


def handles_errors(fn):
    """Print V2LError as `error: ...` (exit 2) and warnings as `warning: ...`."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        from v2l.errors import V2LError

        def show(message, category, filename, lineno, file=None, line=None):
            say(f"warning: {message}")

        old = warnings.showwarning
        warnings.showwarning = show
        try:
            return fn(*args, **kwargs)
        except V2LError as exc:
            say(f"error: {exc}")
            raise typer.Exit(2)
        finally:
            warnings.showwarning = old

    return wrapper
