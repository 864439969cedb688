"""`v2l export-pipeline`: the tiny world loads with stock diffusers in a process that cannot import v2l, and a
library's diffusers LoRA loads into it with no missing or unexpected keys and matches `v2l generate --lora`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import torch

from v2l.video.sample import write_sample

ROOT = Path(__file__).resolve().parent.parent

# Runs in a fresh interpreter; v2l is made unimportable, so only stock diffusers/transformers can load the folder.
STOCK = r"""
import json, logging, sys

class NoV2L:
    def find_spec(self, name, path=None, target=None):
        if name == "v2l" or name.startswith("v2l."):
            raise ImportError("v2l must not be imported here")
sys.meta_path.insert(0, NoV2L())

import torch
from PIL import Image
from diffusers import CogVideoXImageToVideoPipeline
from diffusers.utils import logging as dlogging
from safetensors.torch import load_file, save_file

torch.set_num_threads(1)
pipe_dir, lora, inputs_file, image, out_file = sys.argv[1:6]
messages = []
handler = logging.Handler()
handler.emit = lambda record: messages.append(record.getMessage())
dlogging.get_logger("diffusers").addHandler(handler)
pipe = CogVideoXImageToVideoPipeline.from_pretrained(pipe_dir)
pipe.load_lora_weights(lora, adapter_name="library")
wanted = {k[len("transformer."):-len(".lora_A.weight")] for k in load_file(lora) if k.endswith(".lora_A.weight")}
adapted = {n for n, m in pipe.transformer.named_modules() if hasattr(m, "lora_A") and "library" in m.lora_A}
inputs = load_file(inputs_file)
with torch.no_grad():
    out = pipe.transformer(hidden_states=inputs["hidden_states"], encoder_hidden_states=inputs["text"],
                           timestep=inputs["timestep"].long(), return_dict=False)[0]
    video = pipe(image=Image.open(image).convert("RGB"), prompt="a cup of coffee on a table", num_frames=9,
                 height=48, width=48, max_sequence_length=16, num_inference_steps=4, guidance_scale=1.0,
                 use_dynamic_cfg=False, generator=torch.Generator().manual_seed(0), output_type="pt").frames
save_file({"out": out.contiguous(), "video": video.contiguous()}, out_file)
print(json.dumps({"wanted": sorted(wanted), "adapted": sorted(adapted), "log": messages,
                  "v2l_loaded": any(m == "v2l" or m.startswith("v2l.") for m in sys.modules)}))
"""


def test_exported_pipeline_loads_a_library_lora_with_stock_diffusers(tmp_path, transformer_inputs, tiny_spec):
    from safetensors.torch import load_file, save_file
    from typer.testing import CliRunner

    from v2l.cli.main import app
    from v2l.inference.generate import generate
    from v2l.library.build import build_library, local_executor
    from v2l.library.writer import LoRAWriter
    from v2l.lora.files import load_compact
    from v2l.model import default_model
    from v2l.video.io import load_image

    pipe_dir = tmp_path / "pipe"
    run = CliRunner().invoke(app, ["export-pipeline", str(pipe_dir)])
    assert run.exit_code == 0, run.output
    index = json.loads((pipe_dir / "model_index.json").read_text())
    assert index["_class_name"] == "CogVideoXImageToVideoPipeline"
    assert {"transformer", "vae", "text_encoder", "tokenizer", "scheduler"} <= set(index)

    refs = tmp_path / "refs"
    write_sample(refs, "astronaut")
    _, image = write_sample(tmp_path, "coffee")
    (refs / "astronaut_first.png").unlink()
    model = default_model()
    lib = tmp_path / "lib"
    build_library(refs, lib, model, local_executor(LoRAWriter(lib, model=model)), "compact,diffusers", progress=False)
    (row,) = __import__("v2l.library.index", fromlist=["read_library"]).read_library(lib).rows.values()

    inputs = transformer_inputs(tiny_spec, 1, seed=3)
    save_file(
        {
            "hidden_states": inputs["hidden_states"],
            "text": inputs["encoder_hidden_states"],
            "timestep": inputs["timestep"],
        },
        str(tmp_path / "inputs.safetensors"),
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            STOCK,
            str(pipe_dir),
            str(lib / row["diffusers_path"]),
            str(tmp_path / "inputs.safetensors"),
            str(image),
            str(tmp_path / "stock.safetensors"),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert not report["v2l_loaded"]
    assert report["wanted"] == report["adapted"] == sorted(model.network.names)  # no missing, no unexpected
    assert not [m for m in report["log"] if "missing" in m.lower() or "unexpected" in m.lower()], report["log"]
    stock = load_file(str(tmp_path / "stock.safetensors"))

    # What `v2l generate --lora` computes: the library's compact file on the committed model.
    compact = load_compact(lib / row["compact_path"])
    A, B = compact.A_pred[None].float(), compact.B_pred[None].float()
    with torch.no_grad():
        base = model.backbone.transformer(**inputs)[0]
        with model.network.applied(A, B, compact.scale):
            ours = model.backbone.transformer(**inputs)[0]
    assert (ours - base).abs().max() > 1e-3, "the LoRA must change the output for the comparison to mean anything"
    assert (stock["out"] - ours).abs().max() <= 1e-4
    first = load_image(image, tiny_spec.height, tiny_spec.width)
    video = generate(model, first[None], ["a cup of coffee on a table"], A, B, compact.scale, steps=4, seed=0)
    theirs = stock["video"].permute(0, 2, 1, 3, 4) * 2 - 1  # (B, F, 3, H, W) in [0, 1] -> (B, 3, F, H, W)
    assert (theirs - video).abs().max() <= 1e-3
