"""`v2l data ...` and `v2l content ...`: the data side's commands (semantics, corpus build, content fetch)."""

from __future__ import annotations

import json

import typer

data_app = typer.Typer(add_completion=False, no_args_is_help=True,
                       help="Semantics library, curation and WebDataset shards.")
content_app = typer.Typer(add_completion=False, no_args_is_help=True,
                          help="Real content from package registries.")


def _handles_errors(fn):
    # Imported lazily: v2l.cli.main imports this module.
    from v2l.cli.main import handles_errors

    return handles_errors(fn)


@data_app.command("semantics")
def semantics(as_json: bool = typer.Option(False, "--json", help="print a JSON list"),
              heldout: str = typer.Option("", "--heldout", help="comma-separated held-out semantics "
                                          "(default: the fixed zero-shot split)")):
    """List the semantics: name, family, split (train or heldout) and what each does."""
    @_handles_errors
    def run():
        from v2l.data.semantics import describe, parse_heldout

        rows = describe(parse_heldout(heldout))
        if as_json:
            typer.echo(json.dumps(rows, indent=2))
            return
        for r in rows:
            typer.echo(f"{r['name']:14s} {r['family']:7s} {r['split']:8s} {r['description']}")

    run()
