"""A preset's backbone as a standard diffusers folder: `CogVideoXImageToVideoPipeline.from_pretrained(DIR)`.

Nothing of v2l is needed to load it: stock diffusers classes (transformer, VAE, DDIM scheduler), a stock
transformers T5 encoder and tokenizer (the tiny one's vocabulary saved as `tokenizer.json`). The tiny world
uses sin-cos positional embeddings (no RoPE, no learned positions), so a stock pipeline rebuilds them itself.
What it cannot know are the preset's clip sizes, so the folder's README names the call arguments.
"""

from __future__ import annotations

from pathlib import Path

from v2l.atomic import swap_dir, write_text_atomic
from v2l.backbones import get_spec
from v2l.errors import V2LError

USAGE = """# {preset} backbone as a diffusers pipeline (written by `v2l export-pipeline`)

```python
import torch
from diffusers import CogVideoXImageToVideoPipeline

pipe = CogVideoXImageToVideoPipeline.from_pretrained("{dir}")
pipe.load_lora_weights("LORA.diffusers.safetensors")   # a v2l library's (or `v2l predict --format diffusers`) LoRA
video = pipe(image=first_frame, prompt="a cup of coffee on a table", num_frames={frames}, height={height},
             width={width}, max_sequence_length={text_len}, num_inference_steps=25, guidance_scale=1.0,
             use_dynamic_cfg=False, generator=torch.Generator().manual_seed(0)).frames[0]
```

`max_sequence_length` must be {text_len} (the transformer's `max_text_seq_length`); frame counts are 8k+1.
"""


def export_pipeline(out: str | Path, preset: str = "tiny", backbone_weights: str | Path | None = None) -> Path:
    """Write the preset's committed (or given) backbone as a diffusers folder with `model_index.json`, atomically."""

    out = Path(out)
    if out.exists() and any(out.iterdir()) and not (out / "model_index.json").is_file():
        raise V2LError(f"{out} is a non-empty folder that is not a pipeline export; pass a new or empty folder")
    spec = get_spec(preset)
    backbone = spec.load(backbone_weights) if backbone_weights else spec.default()
    if backbone.tokenizer is None:
        raise V2LError(f"preset {preset} has no tokenizer here; pass --backbone-weights with a tokenizer/ folder")
    tmp = out.parent / f".tmp-{out.name}"
    if tmp.exists():
        import shutil

        shutil.rmtree(tmp)
    from diffusers import CogVideoXImageToVideoPipeline

    # The stock class, not the project's subclass: model_index.json must name a class stock diffusers has.
    pipe = CogVideoXImageToVideoPipeline(
        tokenizer=backbone.tokenizer,
        text_encoder=backbone.text_encoder,
        vae=backbone.vae,
        transformer=backbone.transformer,
        scheduler=backbone.scheduler,
    )
    pipe.save_pretrained(tmp, safe_serialization=True)
    write_text_atomic(
        tmp / "README.md",
        USAGE.format(
            preset=preset,
            dir=out,
            frames=spec.num_frames,
            height=spec.height,
            width=spec.width,
            text_len=spec.max_text_len,
        ),
    )
    swap_dir(tmp, out)
    return out
