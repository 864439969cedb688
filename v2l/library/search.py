"""`v2l library search`: the entries whose predicted codes are nearest (cosine) to a new reference's.

A code is what the hypernetwork predicted for a reference: its compact file's A_pred and B_pred, flattened.
The new reference is predicted by the library's own hypernetwork version (any other is refused) and sampled in
time as the library's references were, so both live in one space: "find the effects that look like this clip".
"""

from __future__ import annotations

from pathlib import Path

import torch

from v2l.errors import V2LError
from v2l.inference.predict import predict_lora
from v2l.library.index import check_same_hypernet, entry_file, library_sampling, read_library
from v2l.lora.files import load_compact
from v2l.model import default_model


def code_of(A_pred: torch.Tensor, B_pred: torch.Tensor) -> torch.Tensor:
    # Rounded like the stored files, so a reference already in the library finds itself at cosine 1.
    return torch.cat([A_pred.to(torch.bfloat16).float().flatten(), B_pred.to(torch.bfloat16).float().flatten()])


def search(root: str | Path, reference: str | Path, k: int = 5, model=None) -> list[dict]:
    """Up to k entries, nearest first: sha256, label, cosine, first input, compact path."""

    lib = read_library(root, must_exist=True)
    rows = [r for r in lib.rows.values() if r.get("compact_path")]
    if not rows:
        raise V2LError(
            f"library {lib.root} has no compact LoRAs to compare codes with; build it with --formats compact"
        )
    model = model or default_model(
        lib.info["hypernet_source"] if Path(lib.info["hypernet_source"]).is_dir() else None, lib.info["backbone"]
    )
    check_same_hypernet(lib, model)
    # The entries' files first (each checked: in its place, no link out, finite), then the one hypernetwork pass.
    codes = torch.stack(
        [code_of(c.A_pred, c.B_pred) for c in (load_compact(entry_file(lib, r, "compact")) for r in rows)]
    )
    query = predict_lora(model, reference, sampling=library_sampling(lib))  # sampled as the entries were
    q = code_of(query.A_pred, query.B_pred)
    cosine = torch.nn.functional.cosine_similarity(codes, q[None], dim=1)
    order = torch.argsort(cosine, descending=True)[:k]
    return [
        {
            "reference_sha256": rows[i]["reference_sha256"],
            "label": rows[i]["label"],
            "cosine": float(cosine[i]),
            "input": rows[i]["inputs"][0] if rows[i]["inputs"] else None,
            "compact_path": rows[i]["compact_path"],
        }
        for i in order.tolist()
    ]
