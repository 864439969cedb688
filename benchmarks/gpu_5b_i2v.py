"""Real-size check of the `cogvideox-5b-i2v` path on one GPU: random weights, bf16, 49 x 480 x 720.

What it measures, each through the project's own code (spec.random_init, Video2LoRA, training_step,
LightLoRA injection, the compact LoRA file):
- memory of the frozen backbone in bf16 and the trainable hypernetwork + aux (fp32 master weights);
- one training step (bf16 autocast, batch 1, from cached latents) with and without gradient checkpointing:
  step time and peak memory, or the out-of-memory error;
- inference: hypernetwork prediction, the compact LoRA file's size, one CFG denoising step with the LoRA
  applied, VAE encode of a 49-frame reference and tiled VAE decode of the generated latents.
The T5 text encoder is built and timed on random token ids (no tokenizer ships with random weights).

Needs CUDA; `make bench` skips it elsewhere. Run alone: `python -m benchmarks.gpu_5b_i2v`.
"""

from __future__ import annotations

import json
import os
import random
import time
import traceback
from pathlib import Path

import torch

GiB = 1 << 30


def _sync():
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def _sync_time(fn, repeats: int = 1):
    _sync()
    t0 = time.perf_counter()
    out = None
    for _ in range(repeats):
        out = fn()
    _sync()
    return (time.perf_counter() - t0) / repeats, out


def _phase(result: dict, name: str, fn, out_path: Path | None) -> None:
    """Run one phase; an error (OOM included) is recorded, not raised, so later phases still run."""
    cuda = torch.cuda.is_available()
    if cuda:
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
    t0 = time.perf_counter()
    try:
        result[name] = fn()
    except Exception as exc:  # noqa: BLE001 - a benchmark reports what failed and goes on
        result[name] = {"error": f"{type(exc).__name__}: {str(exc)[:400]}", "traceback": traceback.format_exc()[-1500:]}
    result[name]["phase_s"] = round(time.perf_counter() - t0, 2)
    if cuda:
        result[name]["peak_allocated_gib"] = round(torch.cuda.max_memory_allocated() / GiB, 2)
    print(name, json.dumps(result[name], default=str)[:600], flush=True)
    if out_path is not None:
        out_path.write_text(json.dumps(result, indent=2, default=str) + "\n")


def run(out: str | None = None, train_steps: int = 3, preset: str = "cogvideox-5b-i2v", device: str = "cuda") -> dict:
    """`preset="tiny", device="cpu"` runs the same phases in seconds (a smoke check of this script)."""
    if device == "cuda" and not torch.cuda.is_available():
        return {"skipped": "needs a CUDA device"}
    from v2l.backbones import get_spec
    from v2l.config import V2LConfig
    from v2l.lora.files import compact_bytes, compact_metadata
    from v2l.model import Video2LoRA
    from v2l.training.step import Batch, OptimConfig, build_optimizer, training_step

    out_path = Path(out) if out else None
    torch.backends.cuda.matmul.allow_tf32 = True
    spec = get_spec(preset)
    frames, height, width = spec.num_frames, spec.height, spec.width
    down = 2 ** (len(spec.vae_config["block_out_channels"]) - 1)
    T, h, w, C = (frames - 1) // 4 + 1, height // down, width // down, spec.latent_channels()
    result: dict = {
        "preset": spec.name,
        "device": torch.cuda.get_device_name(0) if device == "cuda" else device,
        "video": [frames, height, width],
        "latents": [C, T, h, w],
    }
    state: dict = {}
    text_dim = spec.transformer_config["text_embed_dim"]

    def build():
        t, bb = _sync_time(lambda: spec.random_init(seed=0, dtype=torch.bfloat16, device=device))
        state["bb"] = bb
        count = {k: sum(p.numel() for p in getattr(bb, k).parameters()) for k in ("transformer", "vae", "text_encoder")}
        t2, model = _sync_time(lambda: Video2LoRA(bb, V2LConfig(preset=spec.name)))
        state["model"] = model
        aux = model.network.aux_parameters()
        return {
            "backbone_build_s": round(t, 1),
            "params": count,
            "lora_modules": len(model.network),
            "backbone_bf16_gib": round(sum(2 * n for n in count.values()) / GiB, 2),
            "hypernet_params": sum(p.numel() for p in model.hypernet.parameters()),
            "aux_params": sum(p.numel() for p in aux),
            "aux_dtype": str(aux[0].dtype),
            "model_build_s": round(t2, 1),
        }

    _phase(result, "build", build, out_path)
    if "bb" not in state:
        return result
    bb, model = state["bb"], state["model"]
    g = torch.Generator(device=device).manual_seed(0)
    lat = lambda *shape: torch.randn(*shape, generator=g, device=device)  # noqa: E731
    batch = Batch(
        reference=None,
        target=None,
        captions=["a caption"],
        reference_latents=lat(1, C, T, h, w),
        target_latents=lat(1, C, T, h, w),
        image_latents=lat(1, C, 1, h, w),
        text=lat(1, spec.max_text_len, text_dim).to(torch.bfloat16),
        pixel_size=(height, width),
    )
    empty_text = torch.zeros(1, spec.max_text_len, text_dim, device=device, dtype=torch.bfloat16)

    def train(checkpointing: bool):
        def go():
            if checkpointing:
                model.network.enable_gradient_checkpointing(bb.transformer)
            else:
                bb.transformer.disable_gradient_checkpointing()
            cfg = OptimConfig(autocast_bf16=True)
            opt = build_optimizer(model, cfg)
            gen, rng = torch.Generator().manual_seed(0), random.Random(0)
            one = lambda: training_step(model, batch, opt, cfg, gen, rng, empty_text=empty_text)  # noqa: E731
            first, _ = _sync_time(one)
            step, metrics = _sync_time(one, repeats=train_steps)
            one = opt = None  # free the optimizer state before the next measurement
            return {
                "first_step_s": round(first, 2),
                "step_s": round(step, 3),
                "loss": metrics["loss"],
                "grad_norm_hypernet": metrics["grad_norm_hypernet"],
                "steps_timed": train_steps,
                "master_dtype": str(next(model.hypernet.parameters()).dtype),
            }

        return go

    _phase(result, "train_step_gradient_checkpointing", train(True), out_path)
    _phase(result, "train_step_no_checkpointing", train(False), out_path)
    bb.transformer.disable_gradient_checkpointing()

    def infer():
        with torch.no_grad():
            model.hypernet.eval()
            t_pred, pred = _sync_time(lambda: model.hypernet(batch.reference_latents.float()), repeats=5)
            A, B = model.network.split(pred)
            size = len(compact_bytes(A[0].cpu(), B[0].cpu(), compact_metadata(model, "0" * 64)))
            noisy = lat(2, T, C, h, w).to(torch.bfloat16)
            image = (
                torch.cat(
                    [batch.image_latents.permute(0, 2, 1, 3, 4), torch.zeros(1, T - 1, C, h, w, device=device)], 1
                )
                .to(torch.bfloat16)
                .repeat(2, 1, 1, 1, 1)
            )
            text = torch.cat([empty_text, batch.text])
            ts = torch.tensor([500, 500], device=device)
            velocity = lambda: bb.predict_velocity(noisy, image, ts, text, height, width)  # noqa: E731
            velocity()  # warm-up (kernel selection), so neither side of the ratio pays it
            plain, lora = [], []
            for _ in range(3):  # interleaved, so clock drift cancels
                plain.append(_sync_time(velocity)[0])
                with model.network.applied(A, B):
                    t, v = _sync_time(velocity)
                lora.append(t)
            step_plain, step_lora = sorted(plain)[1], sorted(lora)[1]
        return {
            "hypernet_predict_ms": round(1000 * t_pred, 2),
            "compact_lora_bytes": size,
            "cfg_denoise_step_s_no_lora": round(step_plain, 3),
            "cfg_denoise_step_s_lora": round(step_lora, 3),
            "lora_step_overhead": round(step_lora / step_plain, 4),
            "velocity_finite": bool(torch.isfinite(v).all()),
        }

    _phase(result, "inference", infer, out_path)

    def vae():
        bb.vae.enable_tiling()
        video = torch.rand(1, 3, frames, height, width, generator=g, device=device) * 2 - 1
        t_enc, latents = _sync_time(lambda: bb.encode_video(video.to(torch.bfloat16)))
        with torch.no_grad():
            t_dec, decoded = _sync_time(lambda: bb.vae.decode(latents / bb.scaling_factor).sample)
        return {
            "encode_s": round(t_enc, 2),
            "latents": list(latents.shape),
            "decode_tiled_s": round(t_dec, 2),
            "decoded": list(decoded.shape),
        }

    _phase(result, "vae", vae, out_path)

    def text():
        ids = torch.randint(0, bb.text_encoder.config.vocab_size, (2, spec.max_text_len), generator=g, device=device)
        with torch.no_grad():
            t_text, emb = _sync_time(lambda: bb.text_encoder(ids)[0], repeats=3)
        return {"encode_s": round(t_text, 3), "embeddings": list(emb.shape), "dtype": str(emb.dtype)}

    _phase(result, "text_encoder", text, out_path)
    if out is None:
        from benchmarks.common import write_result

        write_result("gpu_5b_i2v", result)
    return result


if __name__ == "__main__":
    target = os.environ.get("OUT")
    run(out=str(Path(target) / "gpu_5b_i2v.json") if target else None)
