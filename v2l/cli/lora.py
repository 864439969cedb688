"""`v2l lora inspect / scale / mix`: tools for LoRA files of every format.

Errors are reported by `v2l.cli.errors.handles_errors`, which `v2l.cli.main` wraps around every sub-app command."""

from __future__ import annotations

import json
from pathlib import Path
from typing import List

import typer

from v2l.cli.options import float_option, number_list_option

lora_app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="LoRA files: inspect, scale and mix (compact, diffusers and kohya formats).",
)


@lora_app.command("inspect")
def inspect(
    file: Path = typer.Argument(..., help="LoRA .safetensors file"),
    as_json: bool = typer.Option(False, "--json", help="print JSON (every module's norms included)"),
):
    """Format, provenance, modules, rank, a/b, per-module norms, and which hypernetwork/aux it needs."""
    from v2l.lora.tools import inspect_lora

    info = inspect_lora(file)
    if as_json:
        typer.echo(json.dumps(info, indent=2))
        return
    needs = info["needs"]
    typer.echo(f"file        {info['file']} ({info['bytes']:,} bytes)")
    typer.echo(f"format      {info['kind']} ({info['format']}), {info['dtype']}")
    typer.echo(f"modules     {info['modules']}, rank {info['r']}, a {info['a']}, b {info['b']}, scale {info['scale']}")
    for key in ("backbone", "reference_sha256", "hypernet_sha256", "modules_sha256", "mix"):
        if key in info["metadata"]:
            typer.echo(f"{key:11s} {info['metadata'][key]}")
    match = {True: "yes", False: "NO", None: "unknown (not a tiny-preset v2l file)"}[info["matches_committed"]]
    if needs["aux"]:
        typer.echo(
            f"needs       the aux matrices of hypernetwork {str(needs['hypernet_sha256'])[:16]}… "
            f"(committed one matches: {match})"
        )
    else:
        typer.echo(
            f"needs       nothing but the {needs.get('backbone') or '?'} backbone (aux folded in); made by "
            f"hypernetwork {str(needs.get('hypernet_sha256'))[:16]}… (committed: {match})"
        )
    typer.echo("norms       " + ("module  |A_pred|  |B_pred|" if needs["aux"] else "module  |dW|_F"))
    for n in info["norms"]:
        if needs["aux"]:
            typer.echo(f"  {n['module']:4d}  {n['A_pred']:8.4f}  {n['B_pred']:8.4f}")
        else:
            typer.echo(f"  {n['module']}  {n['delta_w']:.6f}")


@lora_app.command("scale")
def scale(
    file: Path = typer.Argument(..., help="LoRA .safetensors file"),
    by: float = float_option(..., "--by", lo=-100.0, hi=100.0, help="factor for the LoRA's effect (dW)"),
    out: Path = typer.Option(..., "--out", help="file to write (same format)"),
):
    """The same LoRA with its dW multiplied by S, in the same format."""
    from v2l.lora.tools import scale_lora

    path = scale_lora(file, by, out)
    typer.echo(f"wrote {path} (dW x {by:g})")


@lora_app.command("mix")
def mix(
    files: List[Path] = typer.Argument(..., help="two or more LoRA files of one kind"),
    weights: str = number_list_option(
        ..., "--weights", lo=-100.0, hi=100.0, help="comma-separated, one per file, e.g. 0.5,0.5"
    ),
    out: Path = typer.Option(..., "--out", help="file to write"),
):
    """Compact LoRAs of one hypernetwork version: mixed in the predicted-code space. Standard exports: mixed
    exactly in weight space (ranks concatenated: the result's dW is the weighted sum)."""
    from v2l.lora.tools import mix_loras, parse_weights

    path = mix_loras(files, parse_weights(weights), out)
    typer.echo(f"wrote {path} (mix of {len(files)} LoRAs, weights {weights})")
