"""I2V sampling with a predicted LoRA through diffusers' stock CogVideoXImageToVideoPipeline.

The LoRA is composed once and stays fixed for all steps; with CFG the pipeline doubles the batch as
[uncond, cond] and every LightLoRA module tiles its per-sample weights to match.
"""

from __future__ import annotations

import torch
from PIL import Image

from v2l.video.io import FRAME_STEP, frame_count_hint, is_valid_frame_count
from v2l.video.pixels import to_uint8


def _to_pil(image: torch.Tensor) -> Image.Image:
    return Image.fromarray(to_uint8(image.cpu()).permute(1, 2, 0).numpy())


@torch.no_grad()
def sample(
    backbone,
    images: torch.Tensor,
    prompts: list[str],
    num_frames: int | None = None,
    steps: int = 25,
    guidance: float = 1.0,
    seed: int = 0,
) -> torch.Tensor:
    """The stock I2V pipeline: images (B, 3, H, W) in [-1, 1] -> videos (B, 3, F, H, W) in [-1, 1].

    Whatever LoRA is set on the transformer's LightLoRA modules applies (none by default)."""
    spec = backbone.spec
    num_frames = num_frames or spec.num_frames
    if not is_valid_frame_count(num_frames):
        raise ValueError(f"num_frames={num_frames} is not {FRAME_STEP}k+1; use {frame_count_hint()}")
    height, width = images.shape[-2:]
    pipe = backbone.pipeline()
    pipe.set_progress_bar_config(disable=True)
    out = pipe(
        image=[_to_pil(im) for im in images],
        prompt=list(prompts),
        num_frames=num_frames,
        height=height,
        width=width,
        num_inference_steps=steps,
        guidance_scale=guidance,
        generator=torch.Generator().manual_seed(seed),
        output_type="pt",
        max_sequence_length=spec.max_text_len,
        use_dynamic_cfg=False,
    ).frames
    return (out.permute(0, 2, 1, 3, 4).float() * 2 - 1).clamp(-1, 1)


@torch.no_grad()
def generate(
    model,
    images: torch.Tensor,
    prompts: list[str],
    A_pred: torch.Tensor | None = None,
    B_pred: torch.Tensor | None = None,
    scale: float | None = None,
    num_frames: int | None = None,
    steps: int = 25,
    guidance: float = 1.0,
    seed: int = 0,
) -> torch.Tensor:
    """`sample` with a predicted LoRA per video (fixed for all steps and both CFG branches); none if A_pred is None."""
    if A_pred is None:
        return sample(model.backbone, images, prompts, num_frames, steps, guidance, seed)
    A_pred, B_pred = shared_lora(A_pred, B_pred)
    # One reference's LoRA (batch 1) is the LoRA of every video and of both CFG branches: merged once.
    with model.network.applied(A_pred, B_pred, scale, shared=A_pred.shape[0] == 1):
        return sample(model.backbone, images, prompts, num_frames, steps, guidance, seed)


def shared_lora(A_pred: torch.Tensor, B_pred: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """A batch of LoRAs that are all the same one (one reference repeated, one semantic's code for a whole
    chunk) as that one LoRA, batch 1, so that it is merged into the weights once instead of run as per-sample
    factors; any other batch unchanged."""
    if (
        A_pred.shape[0] > 1
        and torch.equal(A_pred, A_pred[:1].expand_as(A_pred))
        and torch.equal(B_pred, B_pred[:1].expand_as(B_pred))
    ):
        return A_pred[:1], B_pred[:1]
    return A_pred, B_pred
