"""Asset checks on pair_shards: manifest integrity, counts add up, no split leakage."""

from pathlib import Path

import dagster as dg

from orchestration.data_assets import pair_shards


def _result(passed: bool, details: dict) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        passed=passed,
        metadata={k: dg.MetadataValue.json(v) if isinstance(v, (dict, list)) else v for k, v in details.items()},
    )


@dg.asset_check(asset=pair_shards, description="Every shard exists with the manifest's sha256, size and count.")
def manifest_integrity(pair_shards: str) -> dg.AssetCheckResult:
    from v2l.data import checks  # lazy: pulls in torch via v2l.data.checks; keeps orchestration.definitions light

    return _result(*checks.manifest_integrity(Path(pair_shards).parent))


@dg.asset_check(asset=pair_shards, description="inputs = accepted + quarantined; the log matches the counts.")
def counts_add_up(pair_shards: str) -> dg.AssetCheckResult:
    from v2l.data import checks  # lazy: pulls in torch via v2l.data.checks; keeps orchestration.definitions light

    return _result(*checks.counts_add_up(Path(pair_shards).parent))


@dg.asset_check(asset=pair_shards, description="No content in both train and val/heldout; heldout semantics unseen.")
def no_split_leakage(pair_shards: str) -> dg.AssetCheckResult:
    from v2l.data import checks  # lazy: pulls in torch via v2l.data.checks; keeps orchestration.definitions light

    return _result(*checks.no_split_leakage(Path(pair_shards).parent))


DATA_CHECKS = [manifest_integrity, counts_add_up, no_split_leakage]
