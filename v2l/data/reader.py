"""Reading a corpus: verify every shard's sha256 against the manifest before use, then yield decoded samples.

`Corpus(root).samples("train")` yields dicts with `ref` and `tgt` as float tensors (3, F, H, W) in
[-1, 1] (the layout `Backbone.encode_video` takes per clip), `caption`, `key` and the sample's `meta`.
`torch_dataset` gives a webdataset pipeline (a PyTorch IterableDataset); `ray_dataset` gives a Ray Data
dataset (Ray is imported only there).
"""

from __future__ import annotations

import json
import tarfile
from pathlib import Path
from typing import Iterator

from v2l.data.clip_codec import decode_mp4
from v2l.data.manifest import read_manifest
from v2l.data.shard_members import CorruptShardError, check_member, check_shard_members
from v2l.errors import V2LError
from v2l.ray_cluster import connect
from v2l.video.io import file_sha256
from v2l.video.pixels import frames_to_video


def decode_sample(sample: dict) -> dict:
    """A raw webdataset sample (bytes per member) -> tensors and metadata."""
    key = sample.get("__key__", "?")
    try:
        meta = json.loads(sample["json"])
        return {
            "key": key,
            "ref": frames_to_video(decode_mp4(sample["ref.mp4"])),
            "tgt": frames_to_video(decode_mp4(sample["tgt.mp4"])),
            "caption": meta["caption"],
            "meta": meta,
        }
    except Exception as exc:  # a missing member, bad JSON or an undecodable mp4
        raise CorruptShardError(
            f"sample {key} ({sample.get('__url__', 'shard')}) cannot be decoded "
            f"({type(exc).__name__}: {exc}); rebuild the corpus"
        ) from None


class Corpus:
    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.manifest = read_manifest(self.root)
        self._verified: set[str] = set()

    @property
    def version(self) -> str:
        return self.manifest["version"]

    def shard_entries(self, split: str | None = None) -> list[dict]:
        splits = {e["split"] for e in self.manifest["shards"]}
        if split is not None and split not in splits | {"train", "val", "heldout", "real"}:
            raise V2LError(f"unknown split {split!r}; this corpus has {sorted(splits)}")
        return [e for e in self.manifest["shards"] if split is None or e["split"] == split]

    def verify(self, split: str | None = None) -> list[Path]:
        """Check each shard's size and sha256 against the manifest; raise naming the first bad one."""
        paths = []
        for e in self.shard_entries(split):
            path = self.root / e["file"]
            if e["file"] not in self._verified:
                root = self.root.resolve()
                if not path.resolve().is_relative_to(root):  # a `..` entry or a symlink leaving the corpus folder
                    raise CorruptShardError(
                        f"shard {e['file']!r} listed in {self.root / 'manifest.json'} lies "
                        f"outside the corpus folder {root}; a corpus holds its own shards: "
                        f"rebuild with `v2l data build --out {self.root}`"
                    )
                if not path.is_file():
                    raise CorruptShardError(
                        f"shard {path} listed in {self.root / 'manifest.json'} is missing; "
                        f"restore it or rebuild with `v2l data build --out {self.root}`"
                    )
                digest = file_sha256(path)
                if digest != e["sha256"]:
                    raise CorruptShardError(
                        f"shard {path} is corrupt: sha256 {digest[:16]}... does not match the "
                        f"manifest's {e['sha256'][:16]}...; restore the file or rebuild with "
                        f"`v2l data build --out {self.root}`"
                    )
                check_shard_members(path)  # a matching hash only says the file is the one listed, not that it is safe
                self._verified.add(e["file"])
            paths.append(path)
        return paths

    def raw_samples(self, split: str) -> Iterator[dict]:
        """Undecoded samples ({"__key__", "ref.mp4", "tgt.mp4", "json"} as bytes), read with the stdlib tarfile."""
        for path in self.verify(split):
            yield from iter_tar(path)

    def samples(self, split: str) -> Iterator[dict]:
        for s in self.raw_samples(split):
            yield decode_sample(s)

    def torch_dataset(self, split: str, shuffle: int = 0):
        """A webdataset pipeline over the verified shards: an IterableDataset of decoded samples."""
        import webdataset as wds

        urls = [str(p) for p in self.verify(split)]
        ds = wds.WebDataset(urls, shardshuffle=False, empty_check=False)
        if shuffle:
            ds = ds.shuffle(shuffle)
        return ds.map(decode_sample)

    def ray_dataset(self, split: str):
        """A Ray Data dataset with one row per sample (ref/tgt as uint8 (F, H, W, 3) arrays, meta as JSON text).
        Runs on the cluster this process is connected to, else RAY_ADDRESS's, else a private loopback one."""
        import ray

        paths = [str(p) for p in self.verify(split)]
        connect()  # before Ray Data would start a default instance listening on every interface

        def read(row):
            for s in iter_tar(Path(row["path"])):
                yield {
                    "key": s["__key__"],
                    "ref": decode_mp4(s["ref.mp4"]),
                    "tgt": decode_mp4(s["tgt.mp4"]),
                    "meta": s["json"].decode("utf-8"),
                }

        return ray.data.from_items([{"path": p} for p in paths]).flat_map(read)


def iter_tar(path: Path) -> Iterator[dict]:
    """Group a webdataset tar's members by key (the name up to the first dot). Nothing is extracted to disk;
    a damaged or hostile tar (see `v2l.data.shard_members`) raises CorruptShardError naming the file."""
    current: dict | None = None
    try:
        with tarfile.open(path, "r:") as tar:
            seen: set[str] = set()
            for member in tar:
                key, ext = check_member(member, path)
                data = tar.extractfile(member).read()
                if current is not None and current["__key__"] != key:
                    yield current
                    current = None
                if current is None:
                    if key in seen:  # a key's members must be contiguous, as webdataset groups them
                        raise CorruptShardError(f"shard {path} is corrupt: sample {key!r} appears twice; rebuild it")
                    seen.add(key)
                    current = {"__key__": key}
                if ext in current:
                    raise CorruptShardError(
                        f"shard {path} is corrupt: member {member.name!r} appears twice; rebuild it"
                    )
                current[ext] = data
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise CorruptShardError(
            f"shard {path} cannot be read as a tar ({type(exc).__name__}: {exc}); restore it or rebuild the corpus"
        ) from None
    if current is not None:
        yield current


__all__ = ["Corpus", "CorruptShardError", "decode_sample", "iter_tar"]
