"""`make bench`: run every benchmarks/*.py module that defines run(); each writes benchmarks/results/<name>.json."""

from __future__ import annotations

import importlib
import json
import pkgutil
import sys
import time
from pathlib import Path


def main(names: list[str]) -> int:
    here = Path(__file__).resolve().parent
    modules = [m.name for m in pkgutil.iter_modules([str(here)]) if m.name not in ("run", "common")]
    failed = []
    for name in sorted(modules):
        if names and name not in names:
            continue
        module = importlib.import_module(f"benchmarks.{name}")
        if not hasattr(module, "run"):
            continue
        t0 = time.perf_counter()
        try:
            result = module.run()
        except Exception as exc:  # one broken benchmark must not hide the others
            failed.append(name)
            print(f"[{name}] FAILED: {type(exc).__name__}: {exc}", file=sys.stderr)
            continue
        print(f"[{name}] {time.perf_counter() - t0:.1f}s")
        print(json.dumps(result, indent=2, default=str))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
