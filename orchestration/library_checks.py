"""Asset check on library_index: every file the index lists exists with the sha256 the index records."""

import dagster as dg

from orchestration.library_assets import library_index


@dg.asset_check(asset=library_index, description="Every LoRA file in index.parquet exists with its recorded sha256.")
def library_index_hashes(library_index: dict) -> dg.AssetCheckResult:
    from v2l.library.index import (
        read_library,  # lazy: pulls in torch via v2l.library.index; keeps orchestration.definitions light
    )
    from v2l.library.plan import (
        file_ok,  # lazy: pulls in torch via v2l.library.plan; keeps orchestration.definitions light
    )
    from v2l.lora.files import FORMATS  # lazy: pulls in torch via v2l.lora.files; keeps orchestration.definitions light

    lib = read_library(library_index["library"], must_exist=True)
    bad, checked = [], 0
    for sha, row in sorted(lib.rows.items()):
        for fmt in FORMATS:
            if row.get(f"{fmt}_path"):
                checked += 1
                if not file_ok(lib, row, fmt):
                    bad.append(row[f"{fmt}_path"])
    return dg.AssetCheckResult(
        passed=not bad and checked > 0,
        metadata={"files_checked": checked, "entries": len(lib.rows), "mismatched": dg.MetadataValue.json(bad[:50])},
    )


LIBRARY_CHECKS = [library_index_hashes]
