"""The configs shipped with the package (`pipelines/configs/`), found the same way from a checkout or a wheel."""

from __future__ import annotations

from pathlib import Path

# `pipelines` is installed beside `v2l` (the wheel packages both), so this holds in a checkout and in site-packages.
SHIPPED_CONFIGS = Path(__file__).resolve().parent.parent / "pipelines" / "configs"
# A checkout's test configs (tiny-smoke.yaml, the tests' seconds-long training); not shipped, found from a checkout.
TEST_CONFIGS = Path(__file__).resolve().parent.parent / "tests" / "configs"


def resolve_config(path: str | Path) -> Path:
    """`path` if it exists; else a shipped config of that name (`tiny`, `tiny.yaml`, `pipelines/configs/tiny.yaml`),
    so the documented defaults work from any folder; else `path` unchanged (the caller reports it missing)."""
    path = Path(path)
    if path.exists() or path.is_absolute():
        return path
    name = path.name if path.suffix else f"{path.name}.yaml"
    for folder in (SHIPPED_CONFIGS, TEST_CONFIGS):
        if (folder / name).is_file():
            return folder / name
    return path


def config_command_path(name: str) -> str:
    """Where the config `name` lives, relative to a checkout (shipped, experiments/ or tests/configs/), as a
    card's command names it; the shipped folder when none holds it."""
    root = SHIPPED_CONFIGS.parent.parent
    for folder in (SHIPPED_CONFIGS, root / "experiments", TEST_CONFIGS):
        if (folder / f"{name}.yaml").is_file():
            return (folder / f"{name}.yaml").relative_to(root).as_posix()
    return f"pipelines/configs/{name}.yaml"
