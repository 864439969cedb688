"""`v2l library build / ls / search`: LoRA libraries (many references in, an indexed folder of LoRAs out).

Errors are reported by `v2l.cli.errors.handles_errors`, which `v2l.cli.main` wraps around every sub-app command."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from v2l.cli.options import count_option, text_option, threads_option, workers_option
from v2l.cli.reference_options import fps_option, start_option, window_option

library_app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="LoRA libraries: build one from many reference videos, list it, search it.",
)


@library_app.command(
    "build",
    help="Predict one LoRA per unique reference on Ray (a local cluster, or RAY_ADDRESS's "
    "with --out on storage every node sees). Writes LIB/loras/, LIB/index.parquet, LIB/library.json "
    "and LIB/quarantine.jsonl; a re-run builds only what is missing and verifies what exists.",
)
def build(
    references: Path = typer.Option(
        ..., "--references", help="folder of videos, list file (one path per line) or corpus manifest.json"
    ),
    out: Path = typer.Option(..., "--out", help="library folder (created or extended)"),
    formats: str = text_option("compact", "--formats", help="comma-separated: compact,diffusers,kohya"),
    workers: int = workers_option(1, help="Ray actors, each holding the model once"),
    batch: int = count_option(4, "--batch", hi=100_000, help="references per actor call"),
    checkpoint: Optional[Path] = typer.Option(
        None, "--checkpoint", help="hypernetwork checkpoint directory (default: the committed one)"
    ),
    model: Optional[str] = text_option(
        None,
        "--model",
        help="registered hypernetwork instead of --checkpoint: models:/v2l-hypernet@champion or models:/v2l-hypernet/3",
    ),
    labels: Optional[Path] = typer.Option(
        None, "--labels", help="CSV with a header path,semantic (paths relative to it)"
    ),
    preset: str = text_option("tiny", "--preset", help="backbone preset"),
    backbone_weights: Optional[Path] = typer.Option(None, "--backbone-weights", help="local backbone folder"),
    threads: int = threads_option(1, help="torch threads per actor"),
    start: Optional[float] = start_option(),
    fps: Optional[float] = fps_option(),
    window: str = window_option(),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="show a progress bar"),
):
    from pydantic import ValidationError

    from v2l.cli.errors import config_error
    from v2l.library.config import LibraryBuildConfig
    from v2l.library.ray_build import build as run
    from v2l.video.reference_sampling import sampling_from_options

    try:
        cfg = LibraryBuildConfig(
            references=references,
            out=out,
            formats=formats,
            workers=workers,
            batch=batch,
            checkpoint=checkpoint,
            model=model,
            labels=labels,
            preset=preset,
            backbone_weights=backbone_weights,
            torch_threads=threads,
            reference=sampling_from_options(start, fps, window),
        )
    except ValidationError as exc:
        raise config_error(exc) from None
    try:
        result = run(cfg, progress=progress)
    finally:
        import ray

        if ray.is_initialized():
            ray.shutdown()
    typer.echo(result.summary())


@library_app.command("ls")
def ls(
    library: Path = typer.Argument(..., help="library folder"),
    as_json: bool = typer.Option(False, "--json", help="print the library info and every index row as JSON"),
):
    """The library's hypernetwork, totals and one line per entry (reference, label, inputs, files)."""
    from v2l.library.index import read_library, totals
    from v2l.lora.files import FORMATS

    lib = read_library(library, must_exist=True)
    rows = [lib.rows[k] for k in sorted(lib.rows)]
    if as_json:
        typer.echo(json.dumps({"library": {**lib.info, "totals": totals(lib)}, "entries": rows}, indent=2, default=str))
        return
    t = totals(lib)
    info = lib.info
    typer.echo(f"library     {lib.root}")
    typer.echo(f"hypernet    {info['hypernet_sha256'][:16]}… ({info['hypernet_source']}), backbone {info['backbone']}")
    typer.echo(f"entries     {t['entries']} unique references from {t['inputs']} inputs, {t['labelled']} labelled")
    typer.echo(
        "files       " + ", ".join(f"{f} {t['files'][f]} ({t['bytes'][f]:,} bytes)" for f in FORMATS if t["files"][f])
    )
    last = info.get("last_build") or {}
    if "inputs" in last:
        typer.echo(
            f"last build  inputs {last['inputs']} = built {last['built']} + duplicates {last['duplicates']} + "
            f"skipped {last['skipped']} + quarantined {last['quarantined']}"
        )
    typer.echo("")
    typer.echo(f"{'reference':14s} {'label':16s} {'inputs':>6s} {'formats':24s} {'compact B':>9s}  first input")
    for r in rows:
        fmts = ",".join(f for f in FORMATS if r.get(f"{f}_path"))
        typer.echo(
            f"{r['reference_sha256'][:12]:14s} {(r['label'] or '-')[:16]:16s} {len(r['inputs']):6d} "
            f"{fmts:24s} {r['compact_bytes'] or 0:9d}  {r['inputs'][0] if r['inputs'] else ''}"
        )


@library_app.command("search")
def search(
    library: Path = typer.Argument(..., help="library folder"),
    like: Path = typer.Option(..., "--like", help="a new reference video"),
    k: int = count_option(5, "--k", hi=100_000, help="how many entries"),
    as_json: bool = typer.Option(False, "--json", help="print JSON"),
):
    """The entries whose predicted codes are nearest (cosine) to the reference's, with their labels."""
    from v2l.library.search import search as run

    hits = run(library, like, k)
    if as_json:
        typer.echo(json.dumps(hits, indent=2))
        return
    typer.echo(f"{'cosine':>7s}  {'reference':14s} {'label':16s} first input")
    for h in hits:
        typer.echo(f"{h['cosine']:7.4f}  {h['reference_sha256'][:12]:14s} {(h['label'] or '-')[:16]:16s} {h['input']}")
