"""`v2l data ...` and `v2l content ...`: the data side's commands (semantics, corpus build, content fetch)."""

from __future__ import annotations

import typer

data_app = typer.Typer(add_completion=False, no_args_is_help=True,
                       help="Semantics library, curation and WebDataset shards.")
content_app = typer.Typer(add_completion=False, no_args_is_help=True,
                          help="Real content from package registries.")
