"""Integrity checks on a built corpus (they back the Dagster asset checks): each returns (passed, details)."""

from __future__ import annotations

import json
from pathlib import Path

from v2l.data.curation.quarantine import read_quarantine
from v2l.data.manifest import read_manifest
from v2l.data.reader import Corpus, CorruptShardError
from v2l.data.shard_members import check_shard_members


def manifest_integrity(root: str | Path) -> tuple[bool, dict]:
    """Every shard listed exists, has the listed sha256, only well-named file members (`check_shard_members`) and
    the listed number of samples."""
    try:
        corpus = Corpus(root)
        corpus.verify()
    except CorruptShardError as exc:
        return False, {"error": str(exc)}
    bad = []
    for e in corpus.manifest["shards"]:
        n = check_shard_members(Path(root) / e["file"])
        if n != e["samples"]:
            bad.append(f"{e['file']}: {n} samples, manifest says {e['samples']}")
    return not bad, {"shards": len(corpus.manifest["shards"]), "problems": bad}


def counts_add_up(root: str | Path) -> tuple[bool, dict]:
    """inputs = accepted + quarantined (files and labels rows), and the quarantine log holds exactly those."""
    m = read_manifest(root)
    c = m["counts"]
    log = read_quarantine(Path(root) / m.get("quarantine", "quarantine.jsonl"))
    files = [r for r in log if r.kind == "file"]
    labels = [r for r in log if r.kind == "label"]
    problems = []
    if c["inputs"] != c["accepted"] + c["quarantined"]:
        problems.append(f"inputs {c['inputs']} != accepted {c['accepted']} + quarantined {c['quarantined']}")
    if c["label_rows"] != c["label_accepted"] + c["label_quarantined"]:
        problems.append("labels rows do not add up")
    if len(files) != c["quarantined"] or len(labels) != c["label_quarantined"]:
        problems.append(
            f"quarantine log has {len(files)} files and {len(labels)} rows, manifest says "
            f"{c['quarantined']} and {c['label_quarantined']}"
        )
    if len({r.input for r in files}) != len(files):
        problems.append("an input appears twice in the quarantine log")
    if sum(e["samples"] for e in m["shards"]) != sum(c["samples"].values()):
        problems.append("shard sample counts do not sum to the split counts")
    return not problems, {
        "problems": problems,
        "inputs": c["inputs"],
        "accepted": c["accepted"],
        "quarantined": c["quarantined"],
    }


def no_split_leakage(root: str | Path) -> tuple[bool, dict]:
    """No content in both train and val/heldout/real; val uses training semantics, heldout only held-out ones."""
    corpus = Corpus(root)
    split_of = {s["name"]: s["split"] for s in corpus.manifest["semantics"]}
    content: dict[str, set] = {}
    problems = []
    for split in ("train", "val", "heldout", "real"):
        ids = set()
        for s in corpus.raw_samples(split):
            meta = json.loads(s["json"])
            ids |= {meta["content_id"], meta["reference_content_id"]}
            want = "heldout" if split == "heldout" else "train"
            if split != "real" and split_of.get(meta["semantic"]) != want:
                problems.append(f"{meta['key']}: semantic {meta['semantic']} is {split_of.get(meta['semantic'])}")
            if meta["content_id"] == meta["reference_content_id"]:
                problems.append(f"{meta['key']}: reference and target share content")
        content[split] = ids
    leaked = sorted(content["train"] & (content["val"] | content["heldout"] | content["real"]))
    if leaked:
        problems.append(f"content in train and in evaluation splits: {leaked[:5]}")
    return not problems, {"problems": problems[:20], "content_per_split": {k: len(v) for k, v in content.items()}}
