"""Build a semantic-pair corpus from a config file, without Dagster:

    python -m pipelines.build_corpus --config pipelines/configs/data_tiny.yaml --out runs/corpus

The config's keys are `v2l.data.config.CorpusConfig` fields; `out` may be given in the file or on the
command line. The same stage functions back the Dagster assets in `orchestration/`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def load_config(path: str | Path) -> tuple[dict, str | None]:
    """The config's CorpusConfig fields (its `base:` chain merged) and its `out`, if any."""
    from v2l.config import read_mapping

    data = read_mapping(path, "config", "pipelines/configs/data_tiny.yaml")
    out = data.pop("out", None)
    return data, out


def main(argv: list[str] | None = None) -> int:
    from v2l.data.build import build_from_config
    from v2l.data.config import CorpusConfig
    from v2l.errors import V2LError

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", required=True, help="YAML file of CorpusConfig fields (and optionally out)")
    ap.add_argument("--out", help="corpus directory (overrides the config's out)")
    args = ap.parse_args(argv)
    try:
        data, out = load_config(args.config)
        out = args.out or out
        if not out:
            raise V2LError("no output directory: pass --out DIR or set out: in the config")
        result = build_from_config(out, CorpusConfig.model_validate(data), say=lambda m: print(m, file=sys.stderr))
    except V2LError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"manifest   {result.manifest}\nshards     {result.shards}\nquarantine {result.quarantine}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
