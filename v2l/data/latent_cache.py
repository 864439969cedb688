"""Optional latent cache: VAE latents of every reference and target, and the caption's text embedding,
stored next to the video shards for fast training.

Layout: `latents/<preset>/<split>/shard-000000.tar`, one tar per video shard with the same keys; members
`<key>.ref.npy`, `<key>.tgt.npy` (float32 (C, T, h, w), scaled latents, posterior mode) and
`<key>.text.npy` (float32 (L, D)), and `<key>.img.npy` (float32 (C, 1, h, w): the target's first frame encoded
alone, the I2V condition, scaled as the pipeline scales it). The manifest gains a `latents` entry with each tar's sha256 and the
backbone it came from (random-init weights are flagged: such latents are only good for plumbing tests).
"""

from __future__ import annotations

import io
import logging
from pathlib import Path

import numpy as np
import torch

from v2l.backbones import get_spec
from v2l.data.manifest import read_manifest, write_manifest
from v2l.data.reader import Corpus, CorruptShardError, decode_sample, iter_tar
from v2l.errors import V2LError
from v2l.video.io import file_sha256

log = logging.getLogger(__name__)


def _npy(x: torch.Tensor) -> bytes:
    buf = io.BytesIO()
    np.save(buf, x.detach().float().cpu().numpy(), allow_pickle=False)
    return buf.getvalue()


def cache_latents(corpus_dir: str | Path, preset: str = "tiny", batch_size: int = 16) -> dict:
    import webdataset as wds

    root = Path(corpus_dir)
    corpus = Corpus(root)
    spec = get_spec(preset)
    backbone = spec.default()
    out_root = root / "latents" / preset
    entries = []
    for e in corpus.manifest["shards"]:
        src = root / e["file"]
        corpus.verify(e["split"])
        dst = out_root / e["split"] / src.name
        dst.parent.mkdir(parents=True, exist_ok=True)
        tmp = dst.with_name(f".tmp-{dst.name}")
        samples = [decode_sample(s) for s in _iter(src)]
        with wds.TarWriter(str(tmp), mtime=0, encoder=False) as sink:
            for i in range(0, len(samples), batch_size):
                chunk = samples[i : i + batch_size]
                ref = backbone.encode_video(torch.stack([s["ref"] for s in chunk]))
                tgt_frames = torch.stack([s["tgt"] for s in chunk])
                tgt = backbone.encode_video(tgt_frames)
                img = backbone.encode_video(tgt_frames[:, :, :1])
                text = backbone.encode_text([s["caption"] for s in chunk])
                for j, s in enumerate(chunk):
                    sink.write(
                        {
                            "__key__": s["key"],
                            "ref.npy": _npy(ref[j]),
                            "tgt.npy": _npy(tgt[j]),
                            "img.npy": _npy(img[j]),
                            "text.npy": _npy(text[j]),
                        }
                    )
        tmp.replace(dst)
        entries.append(
            {
                "file": dst.relative_to(root).as_posix(),
                "split": e["split"],
                "samples": len(samples),
                "sha256": file_sha256(dst),
                "video_shard": e["file"],
            }
        )
        log.info(f"latents: {dst.relative_to(root)} ({len(samples)} samples)")
    info = {
        "preset": preset,
        "backbone_source": backbone.source,
        "random_weights": bool(backbone.random_weights),
        "shards": entries,
    }
    manifest = read_manifest(root)
    manifest.setdefault("latents", {})[preset] = info
    write_manifest(root, manifest)
    return info


def _iter(path: Path):
    return iter_tar(path)


def read_latents(corpus_dir: str | Path, preset: str, split: str):
    """Yield {"key", "ref", "tgt", "text"} tensors from the verified latent tars of one split."""

    root = Path(corpus_dir)
    info = read_manifest(root).get("latents", {}).get(preset)
    if info is None:
        raise V2LError(f"{root} has no latent cache for preset {preset!r}; run `v2l data build ... --latents {preset}`")
    for e in info["shards"]:
        if e["split"] != split:
            continue
        path = root / e["file"]
        if not path.is_file() or file_sha256(path) != e["sha256"]:
            raise CorruptShardError(
                f"latent shard {path} is missing or corrupt (sha256 mismatch); rebuild the latent cache"
            )
        for s in iter_tar(path):
            yield {
                "key": s["__key__"],
                **{
                    k: torch.from_numpy(np.load(io.BytesIO(s[f"{k}.npy"]), allow_pickle=False))
                    for k in ("ref", "tgt", "img", "text")
                },
            }
