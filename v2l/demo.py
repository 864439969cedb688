"""The `make demo` job: everything the project can do end to end on the tiny default, paths printed."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from v2l.inference.generate import generate
from v2l.inference.predict import predict_lora, write_lora
from v2l.lora.files import FORMATS
from v2l.model import default_model
from v2l.video.io import load_image, to_uint8, write_video
from v2l.video.sample import write_sample


def run_demo(out: str | Path, steps: int = 25, say: Callable[[str], None] = print) -> dict[str, Path]:
    out = Path(out)
    paths: dict[str, Path] = {}
    model = default_model()
    spec = model.backbone.spec
    if model.backbone.random_weights or model.random_weights:
        say("note: the tiny backbone and hypernetwork are deterministic random inits until trained weights are "
            "committed; this demo shows the pipeline, not learned semantics")
    reference, _ = write_sample(out / "inputs", "astronaut", spec.num_frames, spec.height, spec.fps)
    _, first = write_sample(out / "inputs", "coffee", spec.num_frames, spec.height, spec.fps)
    paths["reference video"], paths["first frame"] = reference, first
    lora = predict_lora(model, reference)
    for fmt in FORMATS:
        paths[f"lora ({fmt})"] = write_lora(out / "loras" / f"astronaut_pan.{fmt}.safetensors", lora, model, fmt)
    image = load_image(first, spec.height, spec.width)
    video = generate(model, image[None], ["a photo of a cup of coffee"], lora.A_pred[None].float(),
                     lora.B_pred[None].float(), steps=steps, seed=0)
    paths["generated video"] = write_video(out / "generated" / "coffee_with_astronaut_pan.mp4", to_uint8(video[0]),
                                           fps=spec.fps)
    return paths
