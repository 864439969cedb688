"""The `make demo` job: everything the project can do end to end on the tiny default, paths printed."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from v2l.data.build import build_corpus
from v2l.data.reader import Corpus
from v2l.inference.generate import generate
from v2l.inference.predict import predict_lora, write_lora
from v2l.lora.files import FORMATS
from v2l.model import default_model
from v2l.video.io import to_uint8, write_png, write_video


def _pick(corpus: Corpus, split: str, semantic: str | None = None) -> dict:
    for s in corpus.samples(split):
        if semantic is None or s["meta"]["semantic"] == semantic:
            return s
    raise LookupError(f"no {semantic or 'sample'} in split {split}")


def run_demo(out: str | Path, steps: int = 25, pairs_per_semantic: int = 2,
             say: Callable[[str], None] = print) -> dict[str, Path]:
    out = Path(out)
    paths: dict[str, Path] = {}
    built = build_corpus(out / "corpus", pairs_per_semantic=pairs_per_semantic, say=say)
    paths["corpus manifest"], paths["corpus shards"], paths["quarantine log"] = built.manifest, built.shards, built.quarantine
    corpus = Corpus(built.out)

    model = default_model()
    spec = model.backbone.spec
    if model.backbone.random_weights or model.random_weights:
        say(f"note: backbone: {model.backbone.source}; hypernetwork: {model.source}. Until every part is trained "
            f"and committed this demo shows the pipeline, not learned semantics")
    # A reference of a seen semantic on unseen content, and a first frame of other unseen content.
    ref = _pick(corpus, "val", "pan_left")
    target = next(s for s in corpus.samples("val") if s["meta"]["content_id"] != ref["meta"]["content_id"])
    reference = write_video(out / "inputs" / "reference_pan_left.mp4", to_uint8(ref["ref"]), fps=spec.fps)
    first = write_png(out / "inputs" / "first_frame.png", to_uint8(target["tgt"][:, :1])[0])
    paths["reference video"], paths["first frame"] = reference, first
    lora = predict_lora(model, reference)
    for fmt in FORMATS:
        paths[f"lora ({fmt})"] = write_lora(out / "loras" / f"pan_left.{fmt}.safetensors", lora, model, fmt)
    image = target["tgt"][:, 0]
    video = generate(model, image[None], [target["caption"]], lora.A_pred[None].float(), lora.B_pred[None].float(),
                     steps=steps, seed=0)
    paths["generated video"] = write_video(out / "generated" / "pan_left_on_new_content.mp4", to_uint8(video[0]),
                                           fps=spec.fps)
    return paths
