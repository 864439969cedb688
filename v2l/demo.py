"""The `make demo` job: everything the project can do end to end on the tiny default, paths printed."""

from __future__ import annotations

import logging
from pathlib import Path

from v2l.data.build import build_corpus
from v2l.data.reader import Corpus
from v2l.inference.generate import generate
from v2l.inference.predict import predict_lora, write_lora
from v2l.lora.files import FORMATS
from v2l.model import default_model
from v2l.video.io import write_png, write_video
from v2l.video.pixels import video_to_frames

log = logging.getLogger(__name__)


def _pick(corpus: Corpus, split: str, semantic: str | None = None) -> dict:
    for s in corpus.samples(split):
        if semantic is None or s["meta"]["semantic"] == semantic:
            return s
    raise LookupError(f"no {semantic or 'sample'} in split {split}")


def run_platform(out: Path, train_steps: int, pairs_per_semantic: int) -> dict:
    """The whole platform as Dagster runs it (orchestration's `full` job, one dataset version): corpus -> Ray Train
    -> evaluation -> registry (champion gate) -> LoRA library. Returns printable paths and headline numbers."""
    # lazy: pulls in dagster
    from orchestration.resources import QUICK_RUN, CorpusSettings, TrainSettings
    from orchestration.run_graph import run_full

    root = (out / "platform").resolve()
    resources = {
        "train": TrainSettings(config="tiny.yaml", overrides={**QUICK_RUN, "max_steps": train_steps}, resume=False),
        "corpus": CorpusSettings(out_dir=str(root / "corpus"), overrides={"pairs_per_semantic": pairs_per_semantic}),
    }
    r = run_full(root, out / "dagster", resources, env="dev")
    a, checks = r["assets"], r["checks"]
    checkpoint = Path(a["hypernet_checkpoint"]["checkpoint"])
    run_dir = Path(a["hypernet_checkpoint"]["run_dir"])
    ev, reg = a["hypernet_evaluation"], a["registered_hypernet"]
    lib = a["library_index"]["totals"]
    shown: dict = {
        "dagster run": f"{r['run_id']} (dataset version {r['dataset_version']})",
        "both UIs on this run": f"DAGSTER_HOME={(out / 'dagster').resolve()} MLFLOW_TRACKING_URI={r['mlflow']} make ui",
        "platform shards": Path(a["pair_shards"]["manifest"]).parent,
        "training checkpoint": checkpoint,
        "training metrics": run_dir / "metrics.jsonl",
        "mlflow store": r["mlflow"],
        "mlflow runs": f"training {a['hypernet_checkpoint']['mlflow_run_id']}, evaluation {ev['mlflow_run_id']}",
        "registered model": f"{reg['model_uri']} alias {reg['alias']} ({reg['reason']})",
        "evaluation report": Path(ev["report"]),
        "lora library": Path(a["lora_library"]["library"]),
    }
    for key, label in (
        ("seen_true_ref", "seen true-ref judge acc"),
        ("seen_wrong_ref", "seen wrong-ref judge acc"),
        ("zeroshot_true_ref", "zero-shot true-ref acc"),
    ):
        if key in ev:
            shown[label] = f"{ev[key]:.3f} [{ev[key + '_ci_low']:.3f}, {ev[key + '_ci_high']:.3f}] (95 % CI)"
    shown["library entries"] = f"{lib['entries']} LoRAs ({', '.join(f'{k} {v}' for k, v in lib['files'].items() if v)})"
    shown["asset checks"] = ", ".join(
        f"{n} {'passed' if ok else f'failed ({sev})'}" for n, (ok, sev, _) in sorted(checks.items())
    )
    return shown


def run_demo(out: str | Path, steps: int = 25, pairs_per_semantic: int = 2, train_steps: int = 0) -> dict[str, Path]:
    out = Path(out)
    paths: dict[str, Path] = {}
    built = build_corpus(out / "corpus", pairs_per_semantic=pairs_per_semantic)
    paths["corpus manifest"], paths["corpus shards"], paths["quarantine log"] = (
        built.manifest,
        built.shards,
        built.quarantine,
    )
    corpus = Corpus(built.out)
    if train_steps:
        log.info(
            f"the platform in Dagster: a new dataset version, {train_steps} hypernetwork steps on Ray Train "
            f"(a demonstration, not the release run), its evaluation, the registry and a LoRA library"
        )
        paths.update(run_platform(out, train_steps, pairs_per_semantic))

    model = default_model()  # the committed release hypernetwork, not the brief run above
    spec = model.backbone.spec
    paths["hypernetwork used"] = Path(model.source) if not model.random_weights else Path("(random init)")
    if model.backbone.random_weights or model.random_weights:
        log.warning(
            f"note: backbone: {model.backbone.source}; hypernetwork: {model.source}. Until every part is "
            f"trained and committed this demo shows the pipeline, not learned semantics"
        )
    # A reference of a seen semantic on unseen content, and a first frame of other unseen content.
    ref = _pick(corpus, "val", "pan_left")
    target = next(s for s in corpus.samples("val") if s["meta"]["content_id"] != ref["meta"]["content_id"])
    reference = write_video(out / "inputs" / "reference_pan_left.mp4", video_to_frames(ref["ref"]), fps=spec.fps)
    first = write_png(out / "inputs" / "first_frame.png", video_to_frames(target["tgt"][:, :1])[0])
    paths["reference video"], paths["first frame"] = reference, first
    lora = predict_lora(model, reference)
    for fmt in FORMATS:
        paths[f"lora ({fmt})"] = write_lora(out / "loras" / f"pan_left.{fmt}.safetensors", lora, model, fmt)
    image = target["tgt"][:, 0]
    video = generate(
        model,
        image[None],
        [target["caption"]],
        lora.A_pred[None].float(),
        lora.B_pred[None].float(),
        steps=steps,
        seed=0,
    )
    paths["generated video"] = write_video(
        out / "generated" / "pan_left_on_new_content.mp4", video_to_frames(video[0]), fps=spec.fps
    )
    return paths
