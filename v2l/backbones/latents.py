"""VAE latents of clips for training the backbone or LoRAs on a frozen VAE, in the layout the I2V pipeline uses."""

from __future__ import annotations

import torch

from v2l.video.pixels import to_float


@torch.no_grad()
def latent_cache(bb, clips: torch.Tensor, batch: int = 64) -> tuple[torch.Tensor, torch.Tensor]:
    """Scaled video latents (N, C, T, h, w) and first-frame image latents (N, C, 1, h, w), posterior means."""
    videos, images = [], []
    sf = bb.scaling_factor
    for i in range(0, len(clips), batch):
        x = to_float(clips[i : i + batch])
        videos.append(bb.vae.encode(x).latent_dist.mode() * sf)
        images.append(bb.vae.encode(x[:, :, :1]).latent_dist.mode() * sf)
    return torch.cat(videos), torch.cat(images)


def i2v_inputs(video_lat: torch.Tensor, image_lat: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, C, T, h, w) latents -> x0 and zero-padded image latents, both (B, T, C, h, w) as the pipeline has them."""
    x0 = video_lat.permute(0, 2, 1, 3, 4)
    img = image_lat.permute(0, 2, 1, 3, 4)
    pad = img.new_zeros(img.shape[0], x0.shape[1] - 1, *img.shape[2:])
    return x0, torch.cat([img, pad], dim=1)
