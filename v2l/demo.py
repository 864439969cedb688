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


def train_briefly(corpus_dir: Path, run_dir: Path, steps: int) -> dict[str, Path]:
    """A few hypernetwork steps on Ray Train, tracked in MLflow: the platform's training path, end to end."""
    from pipelines.train_hypernet import fit
    from v2l import ray_cluster
    from v2l.training.config import load_config

    from v2l.shipped import SHIPPED_CONFIGS

    config = SHIPPED_CONFIGS / "tiny-smoke.yaml"
    cfg = load_config(config, run_dir=str(run_dir), max_steps=steps, checkpoint_every=max(1, steps // 2),
                      data={"corpus": str(corpus_dir)}, tracking={"log_every": 1})
    from v2l.training.checkpoints import latest_checkpoint

    try:
        fit(cfg, resume=False)
    finally:
        ray_cluster.shutdown()
    return {"training checkpoint": latest_checkpoint(run_dir / "checkpoints") or run_dir,
            "training metrics": run_dir / "metrics.jsonl", "mlflow store": run_dir / "mlflow.db"}


def run_demo(out: str | Path, steps: int = 25, pairs_per_semantic: int = 2, train_steps: int = 0,
             say: Callable[[str], None] = print) -> dict[str, Path]:
    out = Path(out)
    paths: dict[str, Path] = {}
    built = build_corpus(out / "corpus", pairs_per_semantic=pairs_per_semantic, say=say)
    paths["corpus manifest"], paths["corpus shards"], paths["quarantine log"] = built.manifest, built.shards, built.quarantine
    corpus = Corpus(built.out)
    if train_steps:
        say(f"training the hypernetwork for {train_steps} steps on Ray Train (a demonstration, not the release run)")
        paths.update(train_briefly(built.out, (out / "train").resolve(), train_steps))

    model = default_model()  # the committed release hypernetwork, not the brief run above
    spec = model.backbone.spec
    paths["hypernetwork used"] = Path(model.source) if not model.random_weights else Path("(random init)")
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
