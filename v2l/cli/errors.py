"""How every `v2l` command reports input errors: one line on stderr and exit 2, never a traceback."""

from __future__ import annotations

import functools
import warnings

import typer

# typer 0.29 vendors click: its usage errors are typer._click exceptions, not the click package's.
from typer._click import Context
from typer._click.exceptions import ClickException, NoArgsIsHelpError
from typer.core import TyperGroup


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


def config_error(exc) -> "Exception":
    """A pydantic ValidationError of a config the options filled, as a V2LError naming the first bad option."""
    from v2l.errors import V2LError

    err = exc.errors()[0]
    where = "-".join(str(p).replace("_", "-") for p in err["loc"])
    return V2LError(f"--{where}: {err['msg'].removeprefix('Value error, ')}")


class OneLineErrors(TyperGroup):
    """The top-level group: a value refused while parsing (a bad number, missing option, unknown command) prints
    one `error:` line naming the option, instead of a usage box, and exits with click's code (2)."""

    def invoke(self, ctx: Context):
        try:
            return super().invoke(ctx)
        except NoArgsIsHelpError:
            raise
        except ClickException as exc:
            where = exc.ctx.command_path if getattr(exc, "ctx", None) is not None else ctx.command_path
            say(f"error: {exc.format_message()} (see `{where} --help`)")
            raise typer.Exit(exc.exit_code)
