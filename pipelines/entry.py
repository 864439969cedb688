"""The one argument parser every `python -m pipelines.<job>` entry point uses:

    python -m pipelines.<job> CONFIG.yaml [--set KEY=VALUE ...]

CONFIG is a YAML file of the job's config model (a shipped config's name works too). Each `--set` overrides one
field; a dotted key reaches a nested one (`--set optim.lr=1e-3`) and the value is read as YAML (`--set workers=2`,
`--set semantics=[pan_left,melt]`). Errors in the input are one line naming it, exit status 2.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any, Callable

from v2l.errors import V2LError
from v2l.logs import show_messages

EXIT_BAD_INPUT = 2


def parse_sets(pairs: list[str]) -> dict[str, Any]:
    """["optim.lr=1e-3", "workers=2"] -> {"optim": {"lr": 0.001}, "workers": 2}."""
    import yaml

    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep or not key.strip():
            raise V2LError(f"--set {pair!r}: expected KEY=VALUE, e.g. --set workers=2")
        try:
            value = yaml.safe_load(text) if text else None
        except yaml.YAMLError:
            value = text  # not YAML: the text itself, as a shell user would mean it
        *parents, leaf = key.strip().split(".")
        node = out
        for name in parents:
            node = node.setdefault(name, {})
            if not isinstance(node, dict):
                raise V2LError(f"--set {pair!r}: {name} is set both as a value and as a mapping")
        node[leaf] = value
    return out


def run_job(
    prog: str,
    doc: str,
    load: Callable[..., Any],
    run: Callable[[Any], Any],
    show: Callable[[Any], str],
    argv: list[str] | None = None,
) -> int:
    """Parse CONFIG and --set, `load(config, **overrides)`, `run(cfg)`, print `show(result)`; 0, or 2 on bad input.
    A Ray instance this process started is shut down on the way out."""

    ap = argparse.ArgumentParser(
        prog=f"python -m {prog}", description=doc, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("config", help="YAML config file (fields of the job's config model; `base:` merges another)")
    ap.add_argument(
        "--set",
        dest="sets",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override one config field (dotted keys for nested fields; the value is YAML)",
    )
    args = ap.parse_args(sys.argv[1:] if argv is None else argv)

    show_messages()  # the job's progress messages on stderr, as `v2l` shows them
    try:
        cfg = load(args.config, **parse_sets(args.sets))
        result = run(cfg)
    except V2LError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    finally:
        if "ray" in sys.modules and sys.modules["ray"].is_initialized():
            sys.modules["ray"].shutdown()
    print(show(result))
    return 0
